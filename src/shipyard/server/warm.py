"""Releases kept warm: running without traffic after a blue-green switch, for an instant rollback.

Each warm release has a timer; when it fires, the release is drained and stopped under the
environment's deploy lock (as a clean-up, which a new deploy waits out rather than being refused).
A rollback to a warm release cancels its timer; a deploy that leaves a newer release warm stops
the older ones once it is done.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from shipyard.server import deploy_lock

if TYPE_CHECKING:
    from shipyard.server.controller import Controller


class WarmReleases:
    """The warm releases of every environment of a server."""

    def __init__(self, controller: Controller) -> None:
        self.controller = controller
        self._timers: dict[tuple[str, str], asyncio.Task[None]] = {}
        """(environment, release) -> the task that stops it."""

    def keep(self, environment: str, release: str, seconds: float) -> None:
        """Stop ``release``'s instances (drained) after ``seconds``, unless it serves again."""
        self.cancel(environment, release)
        task = asyncio.get_running_loop().create_task(self._expire(environment, release, seconds))
        self._timers[(environment, release)] = task

    def cancel(self, environment: str, release: str) -> None:
        task = self._timers.pop((environment, release), None)
        if task is not None:
            task.cancel()

    def releases(self, environment: str) -> list[str]:
        return [release for (name, release) in self._timers if name == environment]

    def close(self) -> None:
        for task in self._timers.values():
            task.cancel()

    async def discard(self, environment: str, keep: str, *, only: str | None = None) -> None:
        """Stop the deployments of ``environment`` that neither serve nor are ``keep`` (only
        the release ``only``, when given); the caller holds the environment's lock."""
        c = self.controller
        for deployment in c.supervisor.others(environment):
            release = deployment.workload.release_id
            if release == keep or (only is not None and release != only):
                continue
            self.cancel(environment, release)
            items = list(deployment.instances.values())
            await c.drain(items, 5.0)
            await c.supervisor.discard(deployment)
            c.undrain(items)

    async def _expire(self, environment: str, release: str, seconds: float) -> None:
        from shipyard.server.controller import Conflict

        c = self.controller
        await asyncio.sleep(seconds)
        while True:
            try:
                async with c.locked(environment, purpose=deploy_lock.CLEAN_UP):
                    self._timers.pop((environment, release), None)
                    deployment = c.supervisor.deployment_of(environment, release)
                    if deployment is None or deployment is c.supervisor.deployments.get(
                        environment
                    ):
                        return
                    items = list(deployment.instances.values())
                    await c.drain(items, 5.0)
                    await c.supervisor.discard(deployment)
                    c.undrain(items)
                    return
            except Conflict:
                await asyncio.sleep(1.0)  # a deploy is running: try again after it
