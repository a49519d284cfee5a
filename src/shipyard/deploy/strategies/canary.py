"""Canary: the whole new set starts, then takes a growing share of the traffic. Pure.

After the health gate, each of ``steps`` routes its weight to the new release and pauses (a
duration, or until ``shipyard promote``); ``shipyard abort`` at any pause sends everything back to
the old release. After the last step the new release takes 100% and the old one stops. Automatic
analysis of error rate and latency during pauses plugs in through the executor's analysis hook.
"""

from __future__ import annotations

from shipyard.deploy.strategies import common, steps
from shipyard.spec import deploy_settings


def plan(observed: steps.Observed, settings: deploy_settings.DeploySettings) -> list[steps.Step]:
    found: list[steps.Step] = [
        steps.Scale(observed.new_release, service.name, service.wanted)
        for service in observed.services
        if service.new < service.wanted
    ]
    if observed.has_http:
        for step in settings.steps:
            found.append(steps.Route(step.weight))
            found.append(steps.Pause(step.pause, step.weight))
        found.append(steps.Route(100))
    found.extend(common.stop_old(observed))
    return found
