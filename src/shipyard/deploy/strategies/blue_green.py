"""Blue-green: start the whole new set, switch all traffic at once, keep the old set warm. Pure.

The new release's instances must all be ready (the health gate) before the switch, so a release
that does not start never sees a request. The old HTTP instances stay running without traffic
for ``keep_previous`` seconds: a rollback in that window is a route switch. Old services without
HTTP traffic (workers) are stopped at once: two sets of workers must not run side by side.
"""

from __future__ import annotations

from shipyard.deploy.strategies import common, steps
from shipyard.spec import deploy_settings


def plan(observed: steps.Observed, settings: deploy_settings.DeploySettings) -> list[steps.Step]:
    assert observed.old_release is not None
    found: list[steps.Step] = [
        steps.Scale(observed.new_release, service.name, service.wanted)
        for service in observed.services
        if service.new < service.wanted
    ]
    if observed.has_http:
        found.append(steps.Route(100))
    found.extend(common.stop_old(observed, http=False))
    if settings.keep_previous > 0 and observed.has_http:
        found.append(steps.KeepWarm(observed.old_release, settings.keep_previous))
    else:
        found.extend(common.stop_old(observed, http=True))
    return found
