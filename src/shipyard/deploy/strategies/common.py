"""Pieces every strategy uses: starting everything, stopping the old release. Pure."""

from __future__ import annotations

from shipyard.deploy.strategies import steps


def first_start(observed: steps.Observed) -> list[steps.Step]:
    """Nothing serves yet: start everything, then route all traffic to it."""
    found: list[steps.Step] = [
        steps.Scale(observed.new_release, service.name, service.wanted)
        for service in observed.services
        if service.new < service.wanted
    ]
    if observed.has_http:
        found.append(steps.Route(100))
    return found


def stop_old(observed: steps.Observed, *, http: bool | None = None) -> list[steps.Step]:
    """Stop the old release's instances (only its HTTP services, or only the others)."""
    old = observed.old_release
    assert old is not None
    found: list[steps.Step] = [
        steps.Scale(old, service.name, 0)
        for service in observed.services
        if service.old and (http is None or service.http == http)
    ]
    if http is not True:
        found.extend(
            steps.Scale(old, name, 0) for name, count in observed.old_only.items() if count
        )
    return found
