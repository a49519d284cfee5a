"""What the API does: bring environments up and down, and bring them back after a restart.

The controller joins the pieces: releases (files and the store) say what can run, the store holds
each environment's desired state, the supervisor runs instances, and the router link sends
traffic to the ready ones. One environment changes at a time (its deploy lock in the store).
A change that fails is undone before the error is raised: nothing is left half-started.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from shipyard.core import errors, suggest
from shipyard.core.frozen import frozen
from shipyard.deploy import releases
from shipyard.runtime.router import errors as router_errors
from shipyard.runtime.supervisor import instance, supervisor
from shipyard.secrets import config as secrets_config
from shipyard.secrets import masking
from shipyard.server import deploy_lock, deploys, router_link, routing, warm
from shipyard.spec import project as project_file
from shipyard.store import database, flag_records, paths, records, serverinfo

LOCK_TTL = 15 * 60.0
DRAIN_SETTLE = 0.2
"""Seconds between draining a retired release in the router and stopping its instances."""
_log = logging.getLogger(__name__)


class NotFound(errors.UserError):
    """An environment, app or release that does not exist (HTTP 404)."""


class Conflict(errors.UserError):
    """A request that cannot be done in the current state (HTTP 409)."""


@frozen
class EnvironmentView:
    """An environment as the API shows it."""

    record: records.EnvironmentRecord
    port: int | None
    instances: tuple[records.InstanceRecord, ...]


class Controller:
    """The server's state: store, supervisor, router."""

    def __init__(
        self,
        home: Path,
        store: database.Store,
        *,
        policy: instance.Policy | None = None,
        router_workers: int = 1,
        vhost_port: int | None = None,
        metrics_port: int | None = None,
    ) -> None:
        self.home = home
        self.store = store
        self.masker = masking.Masker()
        """Every secret of every environment resolved here: API answers pass through it."""
        self.releases_root = paths.releases(home)
        self.supervisor = supervisor.Supervisor(
            store, home, policy=policy, on_change=self._changed, before_retire=self._retiring
        )
        self.router = router_link.RouterLink(
            home, workers=router_workers, vhost_port=vhost_port, metrics_port=metrics_port
        )
        self._holder = f"server@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._dirty = asyncio.Event()
        self._apply_lock = asyncio.Lock()
        self._sync_task: asyncio.Task[None] | None = None
        self._ports: dict[str, tuple[str, int]] = {}
        """environment -> (app, port) of the environments that receive traffic."""
        self.flags_url: str | None = None
        """The server's URL, given to deployed services as their OFREP endpoint."""
        self.weights: dict[str, dict[str, int]] = {}
        """environment -> release -> weight, while a rollout splits its traffic."""
        self.draining: set[str] = set()
        """Addresses of instances taken out of the route before they stop."""
        self._projects: dict[tuple[str, str], project_file.Project] = {}
        """(app, release) -> its validated shipyard.yaml."""
        self.warm = warm.WarmReleases(self)
        self.deploys = deploys.DeployManager(self)

    # -- start and stop --

    async def start(self) -> None:
        await asyncio.to_thread(self._release_dead_locks)
        await self.deploys.recover()
        self.supervisor.start()
        await asyncio.to_thread(self.router.start)
        await self.restore()
        await self._apply_routes()
        self._sync_task = asyncio.get_running_loop().create_task(self._sync_loop())

    async def close(self) -> None:
        """Graceful stop: every instance and the router stop (desired states are kept)."""
        if self._sync_task is not None:
            self._sync_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sync_task
        await self.deploys.close()
        self.warm.close()
        await self.supervisor.close(stop_instances=True)
        await asyncio.to_thread(self.router.shutdown)

    def _release_dead_locks(self) -> None:
        """Locks left by a server of this machine that was killed mid-change are released."""
        here = f"server@{socket.gethostname()}:"
        for environment, holder in records.lock_holders(self.store).items():
            if not holder.startswith(here):
                continue
            pid = holder[len(here) :].split(":", 1)[0]
            mine = pid == str(os.getpid())  # a pid reused by this very server
            if mine or not (pid.isdigit() and serverinfo.is_server_process(int(pid))):
                records.release_lock(self.store, environment, holder)

    async def restore(self) -> None:
        """Make what runs match the store: adopt or restart wanted instances, stop the rest."""
        for environment in await asyncio.to_thread(records.list_environments, self.store):
            known = await asyncio.to_thread(records.list_instances, self.store, environment.name)
            if environment.desired != "up" or environment.release_id is None:
                await self.supervisor.stop_strays(known)
                continue
            try:
                workload = self._workload(
                    environment.name,
                    environment.app,
                    environment.release_id,
                    environment.replicas,
                    config_overrides=environment.config,
                )
            except errors.ShipyardError as error:
                _log.error("cannot restore environment %s: %s", environment.name, error)
                await self.supervisor.stop_strays(known)
                continue
            await self.supervisor.restore(workload, known)

    # -- changes --

    async def up(
        self,
        environment: str,
        *,
        app: str | None,
        release_id: str | None,
        replicas: Mapping[str, int] | None = None,
    ) -> EnvironmentView:
        """Run a release (default: the newest built one of ``app``) in ``environment``."""
        before = await asyncio.to_thread(records.get_environment, self.store, environment)
        app = app or (before.app if before is not None else None)
        if app is None:
            raise NotFound(
                f"unknown environment `{environment}`",
                hint="name the app: run `shipyard up` where its shipyard.yaml is",
            )
        if before is not None and before.app != app:
            raise Conflict(
                f"environment `{environment}` belongs to app `{before.app}`, not `{app}`",
                hint="environment names are unique on a server; pick another name",
            )
        if release_id is None:
            release_id = self._newest_release(app)
        workload = self._workload(environment, app, release_id, replicas or {})
        async with self._locked(environment):
            await self._claim_port(workload)
            await asyncio.to_thread(
                records.set_environment,
                self.store,
                environment,
                app=app,
                release_id=workload.release_id,
                desired="up",
                replicas=workload.replicas,
                config=workload.overrides,
            )
            try:
                await self.supervisor.up(workload)
            except BaseException:
                await asyncio.to_thread(self._restore_record, environment, before)
                if self.supervisor.deployments.get(environment) is None:
                    self._ports.pop(environment, None)
                await self._apply_routes()
                raise
            await self._apply_routes()
        return await self.view(environment)

    async def down(self, environment: str) -> EnvironmentView:
        """Stop every instance of ``environment``; its release is kept for the next ``up``."""
        found = await self._environment(environment)
        async with self._locked(environment):
            await self.supervisor.down(environment)
            self._ports.pop(environment, None)
            await asyncio.to_thread(
                records.set_environment,
                self.store,
                environment,
                app=found.app,
                release_id=found.release_id,
                desired="down",
                replicas=found.replicas,
            )
            await self._apply_routes()
        return await self.view(environment)

    # -- reading --

    async def view(self, environment: str) -> EnvironmentView:
        found = await self._environment(environment)
        await self.supervisor.flush()
        running = tuple(supervisor.snapshot(i) for i in self.supervisor.instances(environment))
        port = self._ports.get(environment, (found.app, None))[1]
        return EnvironmentView(found, port, running)

    async def views(self) -> list[EnvironmentView]:
        found = await asyncio.to_thread(records.list_environments, self.store)
        return [await self.view(environment.name) for environment in found]

    def instances(self, environment: str | None) -> list[records.InstanceRecord]:
        return [supervisor.snapshot(i) for i in self.supervisor.instances(environment)]

    async def _environment(self, environment: str) -> records.EnvironmentRecord:
        found = await asyncio.to_thread(records.get_environment, self.store, environment)
        if found is None:
            known = [e.name for e in await asyncio.to_thread(records.list_environments, self.store)]
            raise NotFound(
                f"unknown environment `{environment}`",
                hint=suggest.did_you_mean(environment, known, noun="environment")
                if known
                else "no environment has been started yet: `shipyard up ENV`",
            )
        return found

    # -- helpers --

    def _newest_release(self, app: str) -> str:
        built = [m for m in releases.list_releases(self.releases_root, app) if m.deployable]
        if not built:
            raise NotFound(
                f"app `{app}` has no built release",
                hint="create one: `shipyard release create`",
            )
        return built[0].id

    def _resolve(
        self,
        project: project_file.Project,
        environment: str,
        tree: Path,
        overrides: Mapping[str, str] | None,
    ) -> secrets_config.ResolvedConfig:
        """The environment's config (``overrides`` as ``--set`` gives them) and secrets; the
        secrets join the API's masker."""
        resolved = secrets_config.resolve(
            project, environment, overrides=overrides, repo_root=tree, home=self.home
        )
        for value in resolved.secret_values:
            self.masker.add(value)
        for warning in resolved.warnings:
            _log.warning("environment %s: %s", environment, warning)
        return resolved

    def _workload(
        self,
        environment: str,
        app: str,
        release_id: str,
        replicas: Mapping[str, int],
        config_overrides: Mapping[str, str] | None = None,
    ) -> supervisor.Workload:
        try:
            manifest = releases.deployable(self.releases_root, app, release_id)
        except releases.ReleaseError as error:
            kind = NotFound if error.message.startswith("no release") else Conflict
            raise kind(error.message, hint=error.hint) from None
        loaded = self._projects.get((app, manifest.id))
        if loaded is None:  # a release never changes: its project file is read once
            loaded = releases.load_project(self.releases_root, manifest)
            self._projects[(app, manifest.id)] = loaded
        if environment not in loaded.environments:
            names = list(loaded.environments)
            raise NotFound(
                f"unknown environment `{environment}`: release {manifest.id} of `{app}` "
                "does not declare it",
                hint=suggest.did_you_mean(environment, names, noun="environment")
                if names
                else "declare it under `environments:` in shipyard.yaml",
            )
        for service in replicas:
            if service not in loaded.services:
                raise NotFound(
                    f"unknown service `{service}`",
                    hint=suggest.did_you_mean(service, loaded.services, noun="service"),
                )
        tree = releases.tree_dir(self.releases_root, app, manifest.id)
        return supervisor.Workload(
            environment=environment,
            app=app,
            release_id=manifest.id,
            project=loaded,
            tree=tree,
            replicas=dict(replicas),
            config=self._resolve(loaded, environment, tree, config_overrides),
            overrides=dict(config_overrides or {}),
            flag_env=flag_records.service_environment(
                self.store, self.home, self.flags_url, environment
            ),
        )

    def locked(
        self, environment: str, *, purpose: str = ""
    ) -> contextlib.AbstractAsyncContextManager[None]:
        """The environment's deploy lock, held by this server (``purpose`` tells why)."""
        return self._locked(environment, purpose=purpose)

    @contextlib.asynccontextmanager
    async def _locked(self, environment: str, *, purpose: str = "") -> AsyncIterator[None]:
        holder = self._holder + purpose
        taken = await asyncio.to_thread(
            records.acquire_lock, self.store, environment, holder, LOCK_TTL
        )
        if not taken:
            found = await asyncio.to_thread(records.lock_info, self.store, environment)
            active = await asyncio.to_thread(deploy_lock.active_of, self.store, environment)
            raise Conflict(
                deploy_lock.busy_message(
                    environment, found or ("another change", time.time()), active
                ),
                hint="wait until that change is done, then try again",
            )
        try:
            yield
        finally:
            await asyncio.to_thread(records.release_lock, self.store, environment, holder)

    def _restore_record(self, environment: str, before: records.EnvironmentRecord | None) -> None:
        if before is None:
            records.delete_environment(self.store, environment)
            return
        records.set_environment(
            self.store,
            environment,
            app=before.app,
            release_id=before.release_id,
            desired=before.desired,
            config=before.config,
            replicas=before.replicas,
        )

    async def _claim_port(self, workload: supervisor.Workload) -> None:
        """Make the router listen on the environment's port before anything starts."""
        port = workload.project.environments[workload.environment].port
        if port is None or not workload.project.http_services():
            return
        previous = self._ports.get(workload.environment)
        self._ports[workload.environment] = (workload.app, port)
        try:
            await self._apply_routes()
        except router_errors.RouterRefused as refused:
            if previous is None:
                self._ports.pop(workload.environment, None)
            else:
                self._ports[workload.environment] = previous
            raise Conflict(
                f"port {port} of environment `{workload.environment}` is already in use",
                hint="stop what listens there, or give the environment another `port` in "
                f"shipyard.yaml ({refused.message})",
            ) from None

    async def _retiring(self, environment: str) -> None:
        """A new release is ready: route to it, and drain the old one's pooled connections in
        the router, before the old one is stopped."""
        await self._apply_routes()
        addresses = [
            f"{routing.INSTANCE_HOST}:{item.spec.port}"
            for item in self.supervisor.retiring(environment)
        ]
        await asyncio.to_thread(self.router.drain, addresses)
        await asyncio.sleep(DRAIN_SETTLE)

    # -- what rollouts use --

    async def apply_routes(self) -> None:
        await self._apply_routes()

    async def drain(self, items: list[instance.Instance], timeout: float) -> None:
        """Take instances out of the route, close their idle pooled connections, and wait until
        their in-flight requests are done (at most ``timeout`` s); long-lived connections
        (WebSockets) are closed when the instance stops, right after."""
        addresses = [f"{routing.INSTANCE_HOST}:{item.spec.port}" for item in items]
        if not addresses:
            return
        self.draining.update(addresses)
        await self._apply_routes()
        await asyncio.to_thread(self.router.drain, addresses)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            try:
                busy = await asyncio.to_thread(self.router.in_flight, addresses)
            except router_errors.RouterError:
                break
            if busy <= 0:
                break
            await asyncio.sleep(0.05)

    def undrain(self, items: list[instance.Instance]) -> None:
        for item in items:
            self.draining.discard(f"{routing.INSTANCE_HOST}:{item.spec.port}")

    def _changed(self, environment: str) -> None:
        self._dirty.set()

    async def _sync_loop(self) -> None:
        while True:
            await self._dirty.wait()
            await asyncio.sleep(0.01)  # let a burst of changes settle into one table
            self._dirty.clear()
            try:
                await self._apply_routes()
            except router_errors.RouterError as error:
                _log.error("cannot update the router: %s", error)

    async def _apply_routes(self) -> None:
        # Computed under the lock: a table computed earlier must never be sent after a newer one.
        async with self._apply_lock:
            table = routing.build_routes(
                self._environment_routes(),
                self._upstreams(),
                by_host=self.router.vhost is not None,
            )
            await asyncio.to_thread(self.router.apply, table)

    def _environment_routes(self) -> list[routing.EnvironmentRoute]:
        for name, deployment in self.supervisor.deployments.items():
            port = deployment.workload.project.environments[name].port
            if port is not None and deployment.workload.project.http_services():
                self._ports.setdefault(name, (deployment.workload.app, port))
        return [
            routing.EnvironmentRoute(environment=name, app=app, port=port)
            for name, (app, port) in self._ports.items()
        ]

    def _upstreams(self) -> list[routing.Upstream]:
        found = []
        current = self.supervisor.deployments
        for item in self.supervisor.instances():
            spec = item.spec
            if spec.service.http is None:
                continue
            http = self._project_http(spec.environment)
            if http and spec.service.name != http[0]:
                continue
            live = current.get(spec.environment)
            newest = live is not None and live.workload.release_id == spec.release_id
            split = self.weights.get(spec.environment)
            weight = (100 if newest else 0) if split is None else split.get(spec.release_id, 0)
            address = f"{routing.INSTANCE_HOST}:{spec.port}"
            found.append(
                routing.Upstream(
                    environment=spec.environment,
                    app=spec.app,
                    release_id=spec.release_id,
                    name=spec.name,
                    port=spec.port,
                    ready=item.ready and weight > 0 and address not in self.draining,
                    weight=weight,
                )
            )
        return found

    def _project_http(self, environment: str) -> list[str]:
        deployment = self.supervisor.deployments.get(environment)
        if deployment is None:
            return []
        return [s.name for s in deployment.workload.project.http_services()]


def uptime(record: records.InstanceRecord, now: float | None = None) -> float | None:
    if record.started_at is None or record.pid is None:
        return None
    return max(0.0, (now or time.time()) - record.started_at)
