"""Weights between releases, readiness, draining, ejection and retry, with real instances."""

from __future__ import annotations

import collections
import http.client

from shipyard.runtime.router import routes
from tests.runtime.router.conftest import Backend, Router, free_port, route, start_backend


def _instances_hit(port: int, count: int) -> collections.Counter[str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    seen: collections.Counter[str] = collections.Counter()
    try:
        for _ in range(count):
            conn.request("GET", "/slow?seconds=0")
            response = conn.getresponse()
            response.read()
            assert response.status == 200
            seen[response.getheader("x-instance") or ""] += 1
    finally:
        conn.close()
    return seen


def test_weighted_split_between_releases(router: Router, backends: list[Backend]) -> None:
    port = free_port()
    router.apply(
        route(
            ("stable", 90, [backends[0].instance(), backends[1].instance()]),
            ("canary", 10, [backends[2].instance()]),
            port=port,
        )
    )
    seen = _instances_hit(port, 1000)
    assert 80 <= seen["web-3"] <= 120, seen  # 10 %, within tolerance
    assert seen["web-1"] + seen["web-2"] == 1000 - seen["web-3"]
    assert abs(seen["web-1"] - seen["web-2"]) <= 20, seen  # round-robin inside the release


def test_only_ready_instances_get_traffic(router: Router, backends: list[Backend]) -> None:
    port = free_port()
    router.apply(
        route(("r1", 100, [backends[0].instance(), backends[1].instance(ready=False)]), port=port)
    )
    assert _instances_hit(port, 20) == {"web-1": 20}
    reply = router.client.set_instance_state(backends[1].address, routes.InstanceState.READY)
    assert (reply.address, reply.state, reply.matched) == (
        backends[1].address,
        routes.InstanceState.READY,
        1,
    )
    assert _instances_hit(port, 20) == {"web-1": 10, "web-2": 10}
    router.client.set_instance_state(backends[0].address, "draining")
    assert _instances_hit(port, 10) == {"web-2": 10}
    router.client.set_instance_state(backends[0].address, "not_ready")
    assert _instances_hit(port, 10) == {"web-2": 10}


def test_zero_weight_release_gets_nothing(router: Router, backends: list[Backend]) -> None:
    port = free_port()
    router.apply(
        route(
            ("old", 0, [backends[0].instance()]), ("new", 100, [backends[1].instance()]), port=port
        )
    )
    assert _instances_hit(port, 20) == {"web-2": 20}


def test_connection_failure_ejects_and_retries_elsewhere(router: Router) -> None:
    doomed = start_backend("doomed")
    healthy = start_backend("healthy")
    try:
        port = free_port()
        router.apply(route(("r1", 100, [doomed.instance(), healthy.instance()]), port=port))
        assert _instances_hit(port, 4) == {"doomed": 2, "healthy": 2}
        doomed.stop()
        # every request still succeeds: the refused one is retried on the other instance
        assert _instances_hit(port, 40) == {"healthy": 40}
        rows = {row.instance_id: row for row in router.client.stats().signals}
        assert rows["doomed"].ejections == 1  # ejected once, then left alone during the backoff
        assert rows["doomed"].connect_errors == 1
        assert rows["healthy"].responses[1] >= 42
    finally:
        doomed.stop()
        healthy.stop()
