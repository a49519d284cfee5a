"""Choosing an instance for a request: releases by weight, instances in turn.

Releases (upstream groups) share a route's traffic by smooth weighted round-robin, so a 10/90
split is exact over every ten requests a worker serves; inside a release, ready instances take
turns. Which instances are in rotation is worked out when something changes (a table, a
readiness change, an ejection), never per request. When every ready instance is ejected the
route falls back to trying them anyway, so a request gets a real answer (or a real 502).
No I/O.
"""

from __future__ import annotations

from shipyard.runtime.router import routes, signals, upstream


class Endpoint:
    """One instance of one release in one route: where to connect and what to count."""

    __slots__ = ("counters", "instance_id", "ready", "release_id", "upstream")

    def __init__(
        self,
        target: upstream.Upstream,
        instance_id: str,
        release_id: str,
        ready: bool,
        counters: signals.Counters,
    ) -> None:
        self.upstream = target
        self.instance_id = instance_id
        self.release_id = release_id
        self.ready = ready
        self.counters = counters

    @property
    def in_rotation(self) -> bool:
        return self.ready and not self.upstream.draining


class Group:
    """The endpoints of one release and its share of the route's traffic."""

    __slots__ = ("choices", "current", "endpoints", "release_id", "turn", "weight")

    def __init__(self, release_id: str, weight: int, endpoints: list[Endpoint]) -> None:
        self.release_id = release_id
        self.weight = weight
        self.endpoints = endpoints
        self.choices: list[Endpoint] = []
        self.current = 0
        self.turn = 0


class RouteRuntime:
    """A route as a worker serves it: its groups, who is in rotation, and its own counters."""

    __slots__ = ("groups", "label", "own", "rotation", "route", "single")

    def __init__(self, route: routes.Route, groups: list[Group], own: signals.Counters) -> None:
        self.route = route
        self.label = route.label
        self.groups = groups
        self.own = own
        """Counts the answers the router gives itself for this route (503, 413, ...)."""
        self.rotation: list[Group] = []
        self.single: Group | None = None
        """The one group in rotation, when there is only one (the request path skips pick())."""

    def refresh(self, now: float) -> None:
        """Recompute which groups and endpoints take requests."""
        live: list[Group] = []
        for group in self.groups:
            group.choices = [
                e for e in group.endpoints if e.in_rotation and e.upstream.ejected_until <= now
            ]
            group.current = 0
            if group.weight > 0 and group.choices:
                live.append(group)
        if not live:
            for group in self.groups:
                group.choices = [e for e in group.endpoints if e.in_rotation]
                if group.weight > 0 and group.choices:
                    live.append(group)
        self.rotation = live
        self.single = live[0] if len(live) == 1 else None

    def pick(self) -> Endpoint | None:
        """The endpoint for the next request, or None when no instance is ready."""
        rotation = self.rotation
        if len(rotation) == 1:
            group = rotation[0]
        elif not rotation:
            return None
        else:
            total = 0
            group = rotation[0]
            best = -(2**62)
            for candidate in rotation:
                candidate.current += candidate.weight
                total += candidate.weight
                if candidate.current > best:
                    best = candidate.current
                    group = candidate
            group.current -= total
        choices = group.choices
        turn = group.turn
        group.turn = turn + 1
        return choices[turn % len(choices)]

    def pick_other(self, tried: list[Endpoint]) -> Endpoint | None:
        """An endpoint in rotation not in ``tried`` (for a retry), or None."""
        for _ in range(sum(len(g.choices) for g in self.rotation)):
            candidate = self.pick()
            if candidate is not None and candidate not in tried:
                return candidate
        return None

    def why_unavailable(self) -> str:
        """Says why :meth:`pick` found nobody, for the 503 page."""
        endpoints = [e for g in self.groups for e in g.endpoints]
        if not self.groups:
            return f"Route {self.label} has no release deployed."
        if not endpoints:
            return f"Route {self.label} has no instance running."
        ready = [e for e in endpoints if e.in_rotation]
        if not ready:
            return (
                f"No instance of route {self.label} is ready "
                f"({len(endpoints)} known, none ready to take requests)."
            )
        return f"Route {self.label} gives no weight to the releases whose instances are ready."


class Routing:
    """What one listening socket serves: its own route, or routes by Host (vhost)."""

    __slots__ = ("by_host", "default", "unrouted")

    def __init__(
        self,
        default: RouteRuntime | None,
        by_host: dict[str, RouteRuntime],
        unrouted: signals.Counters,
    ) -> None:
        self.default = default
        self.by_host = by_host
        self.unrouted = unrouted
        """Counts requests that matched no route here."""
