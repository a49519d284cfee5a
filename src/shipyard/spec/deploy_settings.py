"""How an environment is deployed and who may deploy to it: typed values. Pure: no I/O.

``environments.<env>.deploy`` and ``environments.<env>.protection`` in ``shipyard.yaml`` become a
``DeploySettings`` and a ``Protection`` (read by ``project_deploy``); the deploy strategies plan
from them and the server enforces them. Defaults make a project without these keys deploy with a
rolling update, one instance at a time, and no protection.
"""

from __future__ import annotations

from typing import Literal

from shipyard.core.frozen import frozen

StrategyName = Literal["recreate", "rolling", "blue-green", "canary"]
STRATEGIES: tuple[StrategyName, ...] = ("recreate", "rolling", "blue-green", "canary")


@frozen
class CanaryStep:
    """One step of a canary: send ``weight`` percent of the traffic to the new release, then
    wait ``pause`` seconds; without a pause, wait until ``shipyard promote``."""

    weight: int
    pause: float | None = None


@frozen
class DeploySettings:
    """``environments.<env>.deploy``."""

    strategy: StrategyName = "rolling"
    max_surge: int = 1
    """Rolling: new instances started above the wanted count at a time."""
    max_unavailable: int = 0
    """Rolling: old instances stopped before their replacement is ready."""
    keep_previous: float = 600.0
    """Blue-green: seconds the previous release stays warm (running, no traffic) for an instant
    rollback."""
    steps: tuple[CanaryStep, ...] = (CanaryStep(10), CanaryStep(50))
    """Canary: traffic weights of the new release, in order; 100 follows the last one."""
    deadline: float = 60.0
    """Seconds new instances have to become ready; past it the deploy fails, traffic unmoved."""
    drain_timeout: float = 30.0
    """Seconds an instance leaving the route has to finish its requests before it is stopped."""
    release_command: str | None = None
    """A shell command run once per deploy, in the new release's directory, before any traffic
    moves (database migrations); its failure aborts the deploy."""


@frozen
class Protection:
    """``environments.<env>.protection``: who may deploy what."""

    branches: tuple[str, ...] = ()
    """Branches whose commits may be deployed (glob patterns); empty: any."""
    approval: bool = False
    """A deploy waits until someone runs ``shipyard approve DEPLOY_ID``."""
