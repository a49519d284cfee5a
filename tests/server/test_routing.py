"""The route table computed from running instances (pure)."""

from __future__ import annotations

from shipyard.runtime.router import routes
from shipyard.server import routing


def test_one_route_per_environment_with_a_group_per_release() -> None:
    table = routing.build_routes(
        [
            routing.EnvironmentRoute("staging", "shop", 8081),
            routing.EnvironmentRoute("empty", "shop", 8082),
        ],
        [
            routing.Upstream("staging", "shop", "r2", "web.1", 9001, ready=True),
            routing.Upstream("staging", "shop", "r2", "web.2", 9002, ready=False),
            routing.Upstream("staging", "shop", "r1", "web.1", 9003, ready=True, weight=0),
        ],
        by_host=True,
    )
    assert table == (
        routes.Route(app="shop", environment="empty", port=8082, hosts=("empty.shop.localhost",)),
        routes.Route(
            app="shop",
            environment="staging",
            port=8081,
            hosts=("staging.shop.localhost",),
            groups=(
                routes.UpstreamGroup(
                    "r2",
                    100,
                    (
                        routes.Instance("127.0.0.1:9001", "web.1", True),
                        routes.Instance("127.0.0.1:9002", "web.2", False),
                    ),
                ),
                routes.UpstreamGroup("r1", 0, (routes.Instance("127.0.0.1:9003", "web.1", True),)),
            ),
        ),
    )


def test_without_a_host_listener_routes_have_no_host_names() -> None:
    (route,) = routing.build_routes([routing.EnvironmentRoute("staging", "shop", 8081)], [])
    assert route.hosts == ()


def test_versions_grow_across_restarts() -> None:
    assert routing.next_version(5, 1_000) == 1_000
    assert routing.next_version(2_000, 1_000) == 2_001
