"""Recreate: stop the old release, then start the new one. Pure.

For services without HTTP traffic, or that cannot run two releases side by side (a singleton
consumer, an exclusive lock). Requests arriving in between are answered 503 by the router.
"""

from __future__ import annotations

from shipyard.deploy.strategies import common, steps
from shipyard.spec import deploy_settings


def plan(observed: steps.Observed, settings: deploy_settings.DeploySettings) -> list[steps.Step]:
    found = common.stop_old(observed)
    found.extend(common.first_start(observed))
    return found
