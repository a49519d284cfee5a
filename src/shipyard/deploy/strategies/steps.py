"""What a rollout is made of: the observed state it starts from and the steps it takes. Pure.

A strategy reads an ``Observed`` (which release serves the environment, how many instances of each
release and service run) and returns the ``Step`` values that lead to the new release; the rollout
executor (``shipyard.deploy.rollout``) applies them one by one. Nothing here starts a process or
opens a socket, so ``shipyard deploy --dry-run`` prints exactly what a deploy would do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from typing import TypeAlias

from shipyard.core.frozen import frozen


@frozen
class ServiceState:
    """One service as the rollout sees it."""

    name: str
    wanted: int
    """Instances of the new release wanted when the rollout is done."""
    http: bool = False
    """Receives traffic through the router (weights move only its traffic)."""
    old: int = 0
    """Instances of the serving release running now."""
    new: int = 0
    """Instances of the new release already running (a warm release being rolled back to)."""


@frozen
class Observed:
    """An environment just before a rollout."""

    environment: str
    new_release: str
    old_release: str | None
    """The release serving the environment now; None for its first deploy (or after ``down``)."""
    services: tuple[ServiceState, ...]
    old_only: Mapping[str, int] = field(default_factory=dict)
    """Services of the serving release that the new release no longer has: name -> running."""

    @property
    def has_http(self) -> bool:
        return any(service.http for service in self.services)


@frozen
class RunReleaseCommand:
    """Run the release command once, in the new release's directory, before traffic moves."""

    command: str


@frozen
class Scale:
    """Bring ``release``'s instances of ``service`` to ``count``.

    Up: start the missing ones and wait until they are ready (the health gate: past the deadline,
    or a crash loop, fails the rollout). Down: take the extra ones out of the route, let their
    requests finish (at most the drain timeout), then stop them.
    """

    release: str
    service: str
    count: int


@frozen
class Route:
    """Send ``weight`` percent of the traffic to the new release and the rest to the old one."""

    weight: int


@frozen
class Pause:
    """Wait ``seconds`` (None: until ``shipyard promote``); ``shipyard abort`` reverts."""

    seconds: float | None
    weight: int


@frozen
class KeepWarm:
    """Leave ``release`` running without traffic for ``seconds``, for an instant rollback."""

    release: str
    seconds: float


Step: TypeAlias = RunReleaseCommand | Scale | Route | Pause | KeepWarm


def describe(step: Step) -> str:
    """One line for a person: the dry-run, the progress view and the event history."""
    if isinstance(step, RunReleaseCommand):
        return f"run the release command: {step.command}"
    if isinstance(step, Scale):
        return f"scale {step.service} of release {step.release} to {step.count}"
    if isinstance(step, Route):
        return f"route {step.weight}% of the traffic to the new release"
    if isinstance(step, Pause):
        if step.seconds is None:
            return f"pause at {step.weight}% until `shipyard promote` (or `shipyard abort`)"
        return f"pause at {step.weight}% for {step.seconds:g} s"
    return f"keep release {step.release} warm for {step.seconds:g} s (instant rollback)"
