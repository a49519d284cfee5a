"""The control protocol's messages: encoding, decoding and validation errors (pure)."""

from __future__ import annotations

import json

import pytest

from shipyard.runtime.router import errors, protocol, routes

TABLE = routes.RouteTable(
    version=7,
    routes=(
        routes.Route(
            app="shop",
            environment="staging",
            groups=(
                routes.UpstreamGroup("r1", 90, (routes.Instance("127.0.0.1:9001", "web-1"),)),
                routes.UpstreamGroup(
                    "r2", 10, (routes.Instance("127.0.0.1:9002", "web-2", ready=False),)
                ),
            ),
            port=8081,
            hosts=("staging.shop.localhost",),
        ),
    ),
    vhost=routes.Listen(8000),
    metrics=routes.Listen(9180),
    timeouts=routes.Timeouts(read=5.0),
)


@pytest.mark.parametrize(
    "message",
    [
        protocol.Ping(),
        protocol.ApplyRoutes(TABLE),
        protocol.SetInstanceState("127.0.0.1:9001", routes.InstanceState.DRAINING),
        protocol.GetStats(),
        protocol.Shutdown(12.5),
    ],
)
def test_requests_round_trip(message: protocol.Request) -> None:
    line = protocol.encode(message)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert protocol.decode_request(line) == message


def test_replies_round_trip() -> None:
    row = protocol.InstanceSignals(
        "shop", "staging", "r1", "web-1", "127.0.0.1:9001", 3, 1, (0, 2, 0, 0, 0),
        (1, 1) + (0,) * 12, 0.25, 100, 2000, 0, 0,
    )  # fmt: skip
    for reply in (
        protocol.Pong(42, 7, 2),
        protocol.Applied(7, ("127.0.0.1:8081",)),
        protocol.InstanceStateSet("127.0.0.1:9001", routes.InstanceState.READY, 1),
        protocol.Stats(7, 2, (row,)),
        protocol.ShuttingDown(30.0),
        protocol.ErrorReply("stale_version", "too old", "table.version", "send a newer one"),
    ):
        assert protocol.decode_reply(protocol.encode(reply)) == reply


def test_defaults_fill_in_an_omitted_table_field() -> None:
    message = protocol.decode_request(
        '{"type": "apply_routes", "table": {"version": 1, "routes": [{"app": "shop", '
        '"environment": "staging", "port": 8081, "groups": [{"release_id": "r1", "weight": 1, '
        '"instances": [{"address": "127.0.0.1:9001", "instance_id": "web-1"}]}]}]}}'
    )
    assert isinstance(message, protocol.ApplyRoutes)
    table = message.table
    assert table.limits == routes.Limits()
    assert table.timeouts == routes.Timeouts()
    (only,) = table.routes
    assert (only.bind, only.hosts, only.groups[0].instances[0].ready) == ("127.0.0.1", (), True)


def _table(**route_fields: object) -> dict[str, object]:
    route: dict[str, object] = {"app": "shop", "environment": "staging", "port": 8081}
    route.update(route_fields)
    return {"type": "apply_routes", "table": {"version": 1, "routes": [route]}}


def _group(**fields: object) -> dict[str, object]:
    group: dict[str, object] = {"release_id": "r1", "weight": 10, "instances": []}
    group.update(fields)
    return group


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("not json", "not valid JSON: Expecting value: line 1 column 1 (char 0)"),
        ("[1]", "a message must be a JSON object, not a list"),
        ("{}", "type: is required"),
        ('{"type": "dance"}', "type: 'dance' is not one of: ping, apply_routes, "
         "set_instance_state, stats, shutdown"),
        ('{"type": "ping", "extra": 1}', "extra: unknown key"),
        ('{"type": "apply_routes"}', "table: is required"),
        ('{"type": "apply_routes", "table": {"version": 0}}',
         "table.version: must be between 1 and 9223372036854775807, not 0"),
        ('{"type": "apply_routes", "table": {"version": "1"}}',
         "table.version: must be an integer, not a string"),
        (_table(port=70000), "table.routes[0].port: must be between 1 and 65535, not 70000"),
        (_table(port=None), "table.routes[0]: route shop/staging has neither a port nor a host"),
        (_table(bind="localhost"), "table.routes[0].bind: 'localhost' is not an IP address"),
        (_table(environment="pre prod"),
         "table.routes[0].environment: 'pre prod' is not a valid name"),
        (_table(hosts=["staging.shop.localhost"]),
         "table.routes[0].hosts[0]: a route reached by host name needs the table's vhost listener"),
        (_table(hosts=["http://x"]), "table.routes[0].hosts[0]: 'http://x' is not a host name"),
        (_table(groups=[_group(weight=-1)]),
         "table.routes[0].groups[0].weight: must be between 0 and 1000000, not -1"),
        (_table(groups=[_group(), _group()]),
         "table.routes[0].groups[1].release_id: duplicate release 'r1'"),
        (_table(groups=[_group(instances=[{"address": "9001", "instance_id": "a"}])]),
         "table.routes[0].groups[0].instances[0].address: '9001' is not host:port"),
        (_table(groups=[_group(instances=[{"address": "127.0.0.1:9001"}])]),
         "table.routes[0].groups[0].instances[0].instance_id: is required"),
        (_table(groups=[_group(instances=[{"address": "127.0.0.1:1", "instance_id": "a",
                                          "ready": "yes"}])]),
         "table.routes[0].groups[0].instances[0].ready: must be true or false, not a string"),
        (_table(groups=[_group(instances=[{"address": "127.0.0.1:1", "instance_id": "a"},
                                          {"address": "127.0.0.1:1", "instance_id": "b"}])]),
         "table.routes[0].groups[0].instances[1].address: duplicate instance address "
         "'127.0.0.1:1'"),
        ('{"type": "apply_routes", "table": {"version": 1, "timeouts": {"read": 0}}}',
         "table.timeouts.read: must be between 0.01 and 86400 seconds, not 0"),
        ('{"type": "apply_routes", "table": {"version": 1, "limits": {"max_size": 1}}}',
         "table.limits.max_size: unknown key"),
        ('{"type": "apply_routes", "table": {"version": 1, "vhost": {"port": 8000}, '
         '"metrics": {"port": 8000}}}',
         "table.metrics.port: port 8000 is already the vhost listener's"),
        ('{"type": "set_instance_state", "address": "127.0.0.1:9001", "state": "up"}',
         "state: 'up' is not one of: ready, not_ready, draining"),
        ('{"type": "shutdown", "timeout": -1}',
         "timeout: must be between 0 and 3600 seconds, not -1"),
    ],
)  # fmt: skip
def test_invalid_messages_say_where_and_what(message: object, expected: str) -> None:
    line = message if isinstance(message, str) else json.dumps(message)
    with pytest.raises(errors.ProtocolError) as caught:
        protocol.decode_request(line)
    assert caught.value.headline() == expected


def test_unknown_key_hint_lists_the_allowed_keys() -> None:
    with pytest.raises(errors.ProtocolError) as caught:
        protocol.decode_request(json.dumps(_table(colour="blue")))
    assert caught.value.hint == "allowed keys: app, environment, port, bind, hosts, groups"


def test_two_routes_on_one_port_are_refused() -> None:
    message = _table()
    table = message["table"]
    assert isinstance(table, dict)
    table["routes"].append({"app": "shop", "environment": "production", "port": 8081})
    with pytest.raises(errors.ProtocolError) as caught:
        protocol.decode_request(json.dumps(message))
    assert caught.value.headline() == (
        "table.routes[1].port: port 8081 is already used by table.routes[0].port"
    )


def test_error_replies_become_the_matching_exception() -> None:
    with pytest.raises(errors.ProtocolError) as invalid:
        protocol.raise_error(protocol.ErrorReply("invalid_message", "bad", "type"))
    assert invalid.value.headline() == "type: bad"
    with pytest.raises(errors.RouterRefused) as refused:
        protocol.raise_error(protocol.ErrorReply("stale_version", "old", None, "newer"))
    assert (refused.value.code, refused.value.render()) == ("stale_version", "old\n  hint: newer")


def test_merge_signals_sums_rows_of_the_same_instance() -> None:
    def row(requests: int, instance: str = "web-1") -> protocol.InstanceSignals:
        return protocol.InstanceSignals(
            "shop", "staging", "r1", instance, "a", requests, 1, (0, requests, 0, 0, 0),
            (requests,) + (0,) * 13, 0.5, 10, 20, 1, 0,
        )  # fmt: skip

    merged = protocol.merge_signals([row(2), row(3), row(5, "web-2")])
    assert [(r.instance_id, r.requests, r.in_flight, r.latency_sum) for r in merged] == [
        ("web-1", 5, 2, 1.0),
        ("web-2", 5, 1, 0.5),
    ]
