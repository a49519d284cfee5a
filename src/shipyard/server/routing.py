"""The router's route table, computed from what the supervisor runs. Pure: no I/O.

Each environment with a port becomes one route: its port, the host name ``<env>.<app>.localhost``
(when the router has a host-name listener), and one upstream group per release holding the
instances of the app's HTTP service: weight 100 for the release the environment runs, 0 for one
being retired, until deploy strategies split traffic. An instance that is not ready is listed
with ``ready: false``, so the router sends it nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from shipyard.core.frozen import frozen
from shipyard.runtime.router import routes

INSTANCE_HOST = "127.0.0.1"


@frozen
class Upstream:
    """One instance as routing sees it."""

    environment: str
    app: str
    release_id: str
    name: str
    port: int
    ready: bool
    weight: int = 100
    """100 for the release an environment runs; 0 for one being retired (it drains)."""


@frozen
class EnvironmentRoute:
    """An environment that receives traffic on ``port``."""

    environment: str
    app: str
    port: int


def build_routes(
    environments: Iterable[EnvironmentRoute],
    upstreams: Iterable[Upstream],
    *,
    by_host: bool = False,
) -> tuple[routes.Route, ...]:
    """One route per environment, its instances grouped by release (in order of appearance).

    With ``by_host`` (the table has a shared host-name listener), each route also answers to
    ``<env>.<app>.localhost`` there.
    """
    by_environment: dict[str, dict[str, list[routes.Instance]]] = {}
    weights: dict[tuple[str, str], int] = {}
    for upstream in upstreams:
        groups = by_environment.setdefault(upstream.environment, {})
        groups.setdefault(upstream.release_id, []).append(
            routes.Instance(
                address=f"{INSTANCE_HOST}:{upstream.port}",
                instance_id=upstream.name,
                ready=upstream.ready,
            )
        )
        weights[(upstream.environment, upstream.release_id)] = upstream.weight
    found = []
    for environment in sorted(environments, key=lambda e: e.environment):
        groups = by_environment.get(environment.environment, {})
        found.append(
            routes.Route(
                app=environment.app,
                environment=environment.environment,
                port=environment.port,
                hosts=(
                    (f"{environment.environment}.{environment.app}.localhost",) if by_host else ()
                ),
                groups=tuple(
                    routes.UpstreamGroup(
                        release_id=release,
                        weight=weights[(environment.environment, release)],
                        instances=tuple(instances),
                    )
                    for release, instances in groups.items()
                ),
            )
        )
    return tuple(found)


def next_version(last: int, now_microseconds: int) -> int:
    """A table version above ``last``: the clock in microseconds, so it also grows across
    server restarts while the router keeps running."""
    return max(last + 1, now_microseconds)
