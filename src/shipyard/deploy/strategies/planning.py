"""Choosing a strategy and planning the way back. Pure.

Every plan starts with the release command (once, before any traffic moves) and ends with the
new release serving 100% of the traffic and the old one stopped or kept warm. ``revert`` is the
plan that puts an interrupted or failed rollout back on the old release: the old release's
instances first, then the traffic, then the new release's instances stopped.
"""

from __future__ import annotations

from collections.abc import Callable

from shipyard.deploy.strategies import blue_green, canary, common, recreate, rolling, steps
from shipyard.spec import deploy_settings

Planner = Callable[[steps.Observed, deploy_settings.DeploySettings], list[steps.Step]]
PLANNERS: dict[str, Planner] = {
    "recreate": recreate.plan,
    "rolling": rolling.plan,
    "blue-green": blue_green.plan,
    "canary": canary.plan,
}


def plan(
    observed: steps.Observed, settings: deploy_settings.DeploySettings
) -> tuple[steps.Step, ...]:
    """The steps that take ``observed`` to the new release with ``settings.strategy``."""
    found: list[steps.Step] = []
    if settings.release_command:
        found.append(steps.RunReleaseCommand(settings.release_command))
    if observed.old_release is None or observed.old_release == observed.new_release:
        found.extend(common.first_start(observed))
    else:
        found.extend(PLANNERS[settings.strategy](observed, settings))
    return tuple(found)


def revert(observed: steps.Observed, old_wanted: dict[str, int]) -> tuple[steps.Step, ...]:
    """Back to the old release: its instances up again (``old_wanted`` per service), all the
    traffic on it, the new release's instances stopped. ``observed.old`` / ``new`` are what runs
    now. Without an old release, the new one's instances are just stopped."""
    found: list[steps.Step] = []
    old = observed.old_release
    if old is not None:
        for name, wanted in old_wanted.items():
            running = next((s.old for s in observed.services if s.name == name), None)
            if running is None:
                running = observed.old_only.get(name, 0)
            if running < wanted:
                found.append(steps.Scale(old, name, wanted))
        if observed.has_http:
            found.append(steps.Route(0))
    found.extend(
        steps.Scale(observed.new_release, service.name, 0)
        for service in observed.services
        if service.new
    )
    return tuple(found)
