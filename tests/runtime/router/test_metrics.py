"""Golden signals: the Prometheus exposition on the metrics listener, and the stats reply."""

from __future__ import annotations

import http.client
import re

from shipyard.runtime.router import protocol, routes
from tests.runtime.router.conftest import Backend, Router, free_port, get, route

_SAMPLE = re.compile(
    r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>[^}]*)\})?"
    r" (?P<value>[0-9.e+-]+|\+Inf|NaN)$"
)
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse_exposition(text: str) -> tuple[Samples, dict[str, str]]:
    """Samples by (name, labels) and metric types, checking the text format as it goes."""
    samples: Samples = {}
    types: dict[str, str] = {}
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram")
            types[name] = kind
            continue
        match = _SAMPLE.match(line)
        assert match, line
        name = match["name"]
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in types or family in types, line
        labels = frozenset(_LABEL.findall(match["labels"] or ""))
        samples[(name, labels)] = float(match["value"])
    return samples, types


def test_metrics_count_what_happened(router: Router, backends: list[Backend]) -> None:
    port = free_port()
    empty = free_port()
    metrics_port = free_port()
    router.apply(
        route(("r1", 100, [backends[0].instance()]), port=port, environment="metrics-env"),
        route(port=empty, environment="empty-env"),
        metrics=routes.Listen(metrics_port),
    )
    for _ in range(7):
        assert get(port, "/echo")[0] == 200
    for _ in range(3):
        assert get(port, "/missing")[0] == 404
    assert get(empty, "/")[0] == 503
    conn = http.client.HTTPConnection("127.0.0.1", metrics_port, timeout=10)
    conn.request("GET", "/metrics")
    response = conn.getresponse()
    text = response.read().decode()
    conn.close()
    assert response.status == 200
    assert response.getheader("content-type") == "text/plain; version=0.0.4; charset=utf-8"
    samples, types = parse_exposition(text)
    assert types["shipyard_router_request_duration_seconds"] == "histogram"
    instance = {
        ("app", "shop"),
        ("environment", "metrics-env"),
        ("release", "r1"),
        ("instance", "web-1"),
        ("address", backends[0].address),
    }

    def sample(name: str, **extra: str) -> float:
        return samples[(name, frozenset(instance | set(extra.items())))]

    assert sample("shipyard_router_requests_total") == 10
    assert sample("shipyard_router_responses_total", code="2xx") == 7
    assert sample("shipyard_router_responses_total", code="4xx") == 3
    assert sample("shipyard_router_responses_total", code="5xx") == 0
    assert sample("shipyard_router_requests_in_flight") == 0
    assert sample("shipyard_router_request_duration_seconds_count") == 10
    assert sample("shipyard_router_request_duration_seconds_bucket", le="+Inf") == 10
    buckets = [
        sample("shipyard_router_request_duration_seconds_bucket", le=repr(bound))
        for bound in protocol.LATENCY_BUCKETS
    ]
    assert buckets == sorted(buckets)
    assert 0 < sample("shipyard_router_request_duration_seconds_sum") < 10
    assert sample("shipyard_router_request_bytes_total") > 10 * len("GET /echo HTTP/1.1\r\n")
    assert sample("shipyard_router_response_bytes_total") > 7 * 200
    router_row = {
        ("app", "shop"),
        ("environment", "empty-env"),
        ("release", ""),
        ("instance", ""),
        ("address", ""),
    }
    assert (
        samples[("shipyard_router_responses_total", frozenset(router_row | {("code", "5xx")}))] == 1
    )
    assert samples[("shipyard_router_route_table_version", frozenset())] == router.version
    assert samples[("shipyard_router_workers", frozenset())] == 1

    stats = router.client.stats()
    (row,) = [r for r in stats.signals if r.environment == "metrics-env" and r.release_id]
    assert (row.requests, row.responses, row.in_flight) == (10, (0, 7, 0, 3, 0), 0)
    assert sum(row.latency_counts) == 10


def test_metrics_listener_answers_only_metrics(router: Router) -> None:
    metrics_port = free_port()
    router.apply(metrics=routes.Listen(metrics_port))
    assert get(metrics_port, "/healthz")[:1] == (200,)
    status, _, body = get(metrics_port, "/other")
    assert (status, body) == (404, b"see /metrics\n")
    assert get(metrics_port, "/metrics", method="POST")[0] == 405
