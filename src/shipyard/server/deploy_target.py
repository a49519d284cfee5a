"""One environment as a rollout's ``Target``: the supervisor's instances and the router's weights.

``observe`` counts the instances of the old and the new release; ``scale`` starts them behind the
health gate or drains them out of the route (no new request, in-flight ones finish, at most
``drain_timeout``) before they stop; ``route`` records where the traffic goes, then moves it. When
the new release takes all of it, it becomes the environment's recorded release, so a server
killed at any moment restarts on exactly one release.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from shipyard.deploy import rollout
from shipyard.deploy.strategies import steps
from shipyard.runtime.supervisor import instance, supervisor
from shipyard.server import routing
from shipyard.spec import deploy_settings
from shipyard.store import paths, records

if TYPE_CHECKING:
    from shipyard.server.controller import Controller

RELEASE_COMMAND_TIMEOUT = 30 * 60.0
LOG_TAIL = 12


class EnvironmentTarget:
    """The environment of ``new`` (a workload) moving from ``old_release`` to ``new``."""

    def __init__(
        self,
        controller: Controller,
        new: supervisor.Workload,
        old_release: str | None,
        settings: deploy_settings.DeploySettings,
        *,
        on_traffic: Callable[[int], None],
    ) -> None:
        self.controller = controller
        self.new = new
        self.old_release = old_release
        self.settings = settings
        self.on_traffic = on_traffic
        self.environment = new.environment

    # -- observing --

    def _deployment(self, release: str | None) -> supervisor.Deployment | None:
        if release is None:
            return None
        return self.controller.supervisor.deployment_of(self.environment, release)

    def observe(self) -> steps.Observed:
        old = self._deployment(self.old_release)
        new = self._deployment(self.new.release_id)
        http = [s.name for s in self.new.project.http_services()][:1]
        services = tuple(
            steps.ServiceState(
                name=service.name,
                wanted=self.new.replica_count(service),
                http=service.name in http,
                old=_count(old, service.name),
                new=_count(new, service.name),
            )
            for service in self.new.project.services.values()
        )
        old_only = {}
        if old is not None:
            for name in {name for (name, _) in old.instances} - set(self.new.project.services):
                old_only[name] = _count(old, name)
        return steps.Observed(
            environment=self.environment,
            new_release=self.new.release_id,
            old_release=self.old_release if old is not None else None,
            services=services,
            old_only=old_only,
        )

    # -- acting --

    async def run_release_command(self, command: str) -> None:
        logs = paths.instance_logs(self.controller.home, self.environment)
        logs.mkdir(parents=True, exist_ok=True)
        log_path = logs / "release-command.log"
        env = {
            **{k: v for k, v in os.environ.items() if k not in supervisor.HIDDEN_VARIABLES},
            **self.new.project.environment_config(self.environment),
            "SHIPYARD_APP": self.new.app,
            "SHIPYARD_ENVIRONMENT": self.environment,
            "SHIPYARD_RELEASE": self.new.release_id,
        }
        with log_path.open("ab") as log:
            log.write(f"--- release {self.new.release_id}: $ {command}\n".encode())
            log.flush()
            process = await asyncio.create_subprocess_exec(
                "/bin/sh",
                "-c",
                command,
                cwd=self.new.tree,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
            try:
                status = await asyncio.wait_for(process.wait(), RELEASE_COMMAND_TIMEOUT)
            except (TimeoutError, asyncio.CancelledError):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, 9)
                await process.wait()
                raise
        if status != 0:
            tail = supervisor.tail_lines(log_path, LOG_TAIL)
            shown = "\n    ".join(tail) if tail else "(nothing)"
            raise rollout.RolloutFailed(
                f"the release command `{command}` exited with status {status}; no traffic moved",
                hint=f"its log ({log_path}) ends with:\n    {shown}",
            )

    async def scale(self, release: str, service: str, count: int) -> None:
        sup = self.controller.supervisor
        if release == self.new.release_id:
            deployment = sup.open(self.new)
        else:
            found = self._deployment(release)
            if found is None:
                return
            deployment = found
        have = sorted(slot for (name, slot) in deployment.instances if name == service)
        if count > len(have):
            try:
                await sup.scale(deployment, service, count, timeout=self.settings.deadline)
            except supervisor.SupervisorError as error:
                raise rollout.RolloutFailed(error.headline(), hint=error.hint) from None
            return
        leaving = [deployment.instances[(service, slot)] for slot in have[count:]]
        await self.controller.drain(leaving, self.settings.drain_timeout)
        try:
            await sup.scale(deployment, service, count, timeout=self.settings.deadline)
        finally:
            self.controller.undrain(leaving)
        if not deployment.instances and sup.deployments.get(self.environment) is not deployment:
            await sup.discard(deployment)

    async def route(self, weight: int) -> None:
        self.on_traffic(weight)  # recorded before it moves
        sup = self.controller.supervisor
        new = sup.deployment_of(self.environment, self.new.release_id)
        if weight >= 100 and new is not None:
            await asyncio.to_thread(self._record_release, self.new.release_id)
            sup.make_current(new)
            self.controller.warm.cancel(self.environment, self.new.release_id)
            self.controller.weights[self.environment] = {self.new.release_id: 100}
        elif weight <= 0 and self.old_release is not None:
            old = self._deployment(self.old_release)
            if old is not None:
                await asyncio.to_thread(self._record_release, self.old_release)
                sup.make_current(old)
            self.controller.weights[self.environment] = {self.old_release: 100}
        else:
            split = {self.new.release_id: weight}
            if self.old_release is not None:
                split[self.old_release] = 100 - weight
            self.controller.weights[self.environment] = split
        await self.controller.apply_routes()

    async def keep_warm(self, release: str, seconds: float) -> None:
        self.controller.warm.keep(self.environment, release, seconds)

    def _record_release(self, release: str) -> None:
        record = records.get_environment(self.controller.store, self.environment)
        records.set_environment(
            self.controller.store,
            self.environment,
            app=self.new.app,
            release_id=release,
            desired="up",
            replicas=record.replicas if record is not None else self.new.replicas,
            config=self.new.overrides if release == self.new.release_id else None,
        )


def _count(deployment: supervisor.Deployment | None, service: str) -> int:
    if deployment is None:
        return 0
    return sum(
        1
        for (name, _), item in deployment.instances.items()
        if name == service and item.status.state != instance.State.STOPPED
    )


def address(item: instance.Instance) -> str:
    return f"{routing.INSTANCE_HOST}:{item.spec.port}"
