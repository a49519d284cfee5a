"""Choosing instances: smooth weighted round-robin between releases, turns inside one."""

from __future__ import annotations

import asyncio
import collections

from shipyard.runtime.router import balancer, context, routes, signals, upstream


def _route(*groups: tuple[str, int, list[str]], ready: bool = True) -> balancer.RouteRuntime:
    ctx = context.Context(asyncio.new_event_loop())
    built = []
    for release, weight, instances in groups:
        endpoints = [
            balancer.Endpoint(
                upstream.Upstream(ctx, name, "127.0.0.1", 1),
                name,
                release,
                ready,
                signals.Counters(("a", "e", release, name, name)),
            )
            for name in instances
        ]
        built.append(balancer.Group(release, weight, endpoints))
    ctx.loop.close()
    runtime = balancer.RouteRuntime(
        routes.Route("shop", "staging", port=1), built, signals.Counters(("a", "e", "", "", ""))
    )
    runtime.refresh(context.clock())
    return runtime


def _picks(runtime: balancer.RouteRuntime, count: int) -> collections.Counter[str]:
    picked = collections.Counter[str]()
    for _ in range(count):
        endpoint = runtime.pick()
        assert endpoint is not None
        picked[endpoint.instance_id] += 1
    return picked


def test_weights_are_exact_over_every_cycle() -> None:
    runtime = _route(("stable", 90, ["a", "b"]), ("canary", 10, ["c"]))
    assert _picks(runtime, 10)["c"] == 1
    assert _picks(runtime, 1000) == {"a": 450, "b": 450, "c": 100}


def test_smooth_spreads_the_small_share() -> None:
    runtime = _route(("x", 2, ["x"]), ("y", 1, ["y"]))
    order = [runtime.pick().instance_id for _ in range(6)]  # type: ignore[union-attr]
    assert order == ["x", "y", "x", "x", "y", "x"]


def test_not_ready_and_draining_are_skipped() -> None:
    runtime = _route(("r", 1, ["a", "b"]))
    group = runtime.groups[0]
    group.endpoints[0].ready = False
    runtime.refresh(context.clock())
    assert _picks(runtime, 4) == {"b": 4}
    group.endpoints[0].ready = True
    group.endpoints[1].upstream.draining = True
    runtime.refresh(context.clock())
    assert _picks(runtime, 4) == {"a": 4}


def test_ejected_instances_wait_unless_nobody_else_is_left() -> None:
    runtime = _route(("r", 1, ["a", "b"]))
    first, second = runtime.groups[0].endpoints
    assert first.upstream.eject() == 1.0
    assert first.upstream.eject() == 2.0  # backoff doubles per consecutive failure
    runtime.refresh(context.clock())
    assert _picks(runtime, 4) == {"b": 4}
    second.upstream.eject()
    runtime.refresh(context.clock())
    assert _picks(runtime, 4) == {"a": 2, "b": 2}  # all ejected: try them anyway
    assert runtime.pick_other([first, second]) is None


def test_nobody_ready_says_why() -> None:
    runtime = _route(("r", 1, ["a"]), ready=False)
    assert runtime.pick() is None
    assert runtime.why_unavailable() == (
        "No instance of route shop/staging is ready (1 known, none ready to take requests)."
    )
    zero = _route(("r", 0, ["a"]))
    assert zero.pick() is None
    assert zero.why_unavailable() == (
        "Route shop/staging gives no weight to the releases whose instances are ready."
    )
