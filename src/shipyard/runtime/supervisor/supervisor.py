"""The supervisor: runs each environment's instances of one release and records them.

``up`` starts a release's instances in an environment (``replicas`` per service, each on its own
loopback port) and waits until every one is ready; only then does it retire the instances of the
release that ran there before, so a release that never becomes ready leaves the environment as it
was. ``down`` stops them all. ``restore`` is what a restarted server does: it adopts the instances
still running (same pid, same start time) and starts the ones that died. Every change is saved to
the store in order by one writer task and announced through ``on_change(environment)`` (the
server re-routes traffic from there). Nothing here knows about HTTP or the router.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from shipyard.core import errors
from shipyard.core.frozen import frozen
from shipyard.runtime.supervisor import instance, processes
from shipyard.secrets import config as secrets_config
from shipyard.spec import project as project_file
from shipyard.store import database, paths, records

HIDDEN_VARIABLES = frozenset({paths.DATABASE_VARIABLE})
"""Variables of the server's environment that instances never see."""
LOG_TAIL_LINES = 8

_log = logging.getLogger(__name__)


class SupervisorError(errors.ExecutionError):
    """Instances could not be started or did not become ready."""

    exit_code = 1


@frozen
class Workload:
    """What should run in an environment: a release of a project, built in ``tree``."""

    environment: str
    app: str
    release_id: str
    project: project_file.Project
    tree: Path
    replicas: Mapping[str, int] = field(default_factory=dict)
    config: secrets_config.ResolvedConfig | None = None
    """The environment's config with its secrets, resolved before the deploy started (None:
    the project's plain config)."""
    flag_env: Mapping[str, str] = field(default_factory=dict)
    """How the instances reach their flags over OFREP (endpoint and flag token)."""
    overrides: Mapping[str, str] = field(default_factory=dict)
    """The ``--set KEY=VALUE`` config values ``config`` was resolved with."""

    def replica_count(self, service: project_file.Service) -> int:
        return self.replicas.get(service.name, service.replicas)


@dataclass(slots=True)
class Deployment:
    """The instances of one release in one environment."""

    workload: Workload
    instances: dict[tuple[str, int], instance.Instance] = field(default_factory=dict)

    def ready(self) -> bool:
        return all(item.ready for item in self.instances.values())

    def failures(self) -> list[instance.Instance]:
        return [item for item in self.instances.values() if item.status.failure is not None]


class Supervisor:
    """Keeps the desired instances of every environment running (one per server)."""

    def __init__(
        self,
        store: database.Store,
        home: Path,
        *,
        policy: instance.Policy | None = None,
        on_change: Callable[[str], None] = lambda environment: None,
        before_retire: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self.store = store
        self.home = home
        self.policy = policy or instance.Policy()
        self.on_change = on_change
        self.before_retire = before_retire
        """Awaited once a new release is ready and before the old one is stopped (the server
        moves traffic there)."""
        self.deployments: dict[str, Deployment] = {}
        self._retiring: dict[str, list[Deployment]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._writes: asyncio.Queue[Callable[[], None] | None] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._ports: set[int] = set()

    # -- lifecycle of the supervisor itself --

    def start(self) -> None:
        self._writer = asyncio.get_running_loop().create_task(self._write_loop())

    async def close(self, *, stop_instances: bool = True) -> None:
        """Stop (or, abruptly, just forget) every instance, then flush the store writes."""
        if stop_instances:
            names = set(self.deployments) | set(self._retiring)
            await asyncio.gather(*(self._stop_environment(name) for name in names))
        else:
            for deployment in self._all_deployments():
                for item in deployment.instances.values():
                    item.detach()
            self.deployments.clear()
            self._retiring.clear()
        await self.flush()
        if self._writer is not None:
            self._writes.put_nowait(None)
            await self._writer

    async def flush(self) -> None:
        """Wait until every change so far is in the store."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def signal_done() -> None:
            loop.call_soon_threadsafe(_finish, done)

        self._writes.put_nowait(signal_done)
        await done

    def _all_deployments(self) -> list[Deployment]:
        found = list(self.deployments.values())
        for retiring in self._retiring.values():
            found.extend(retiring)
        return found

    def _lock(self, environment: str) -> asyncio.Lock:
        return self._locks.setdefault(environment, asyncio.Lock())

    # -- what the server asks --

    async def up(self, workload: Workload, *, timeout: float | None = None) -> Deployment:
        """Run ``workload`` in its environment and wait until every instance is ready.

        Raises ``SupervisorError`` (after stopping the new instances, and leaving what ran
        before untouched) when an instance cannot start, crash-loops or is not ready in time.
        """
        async with self._lock(workload.environment):
            current = self.deployments.get(workload.environment)
            if current is not None and _same(current.workload, workload):
                await self._wait_ready(current, timeout)
                return current
            deployment = self._start(workload)
            try:
                await self._wait_ready(deployment, timeout)
            except BaseException:
                await self._stop_deployment(deployment)
                self._forget(deployment)
                raise
            self.deployments[workload.environment] = deployment
            self.on_change(workload.environment)
            if current is not None:
                self._retiring.setdefault(workload.environment, []).append(current)
                if self.before_retire is not None:
                    await self.before_retire(workload.environment)
                await self._stop_deployment(current)
                self._retiring[workload.environment].remove(current)
                self._forget(current)
            return deployment

    async def down(self, environment: str) -> None:
        """Stop every instance of the environment and forget them."""
        async with self._lock(environment):
            await self._stop_environment(environment)
            self._enqueue(lambda: records.delete_instances(self.store, environment))
            self.on_change(environment)

    async def _stop_environment(self, environment: str) -> None:
        deployments = [*self._retiring.pop(environment, [])]
        current = self.deployments.pop(environment, None)
        if current is not None:
            deployments.append(current)
        self.on_change(environment)
        await asyncio.gather(*(self._stop_deployment(item) for item in deployments))
        for item in deployments:
            self._forget(item)

    async def restore(
        self, workload: Workload, known: Iterable[records.InstanceRecord]
    ) -> Deployment:
        """After a server restart: adopt the workload's instances still running, start the rest.

        Instances of other releases still running are stopped.
        """
        async with self._lock(workload.environment):
            ours: dict[tuple[str, int], records.InstanceRecord] = {}
            for record in known:
                if record.release_id == workload.release_id:
                    ours[(record.service, record.slot)] = record
                elif record.pgid is not None and _alive(record):
                    await processes.stop_group(record.pgid, 10.0)
            deployment = self._start(workload, adopt=ours)
            for key, record in ours.items():
                if key not in deployment.instances and record.pgid is not None and _alive(record):
                    await processes.stop_group(record.pgid, 10.0)
            self.deployments[workload.environment] = deployment
            kept = [(workload.release_id, s, n) for (s, n) in deployment.instances]
            self._enqueue(
                lambda: records.delete_instances(self.store, workload.environment, keep=kept)
            )
            self.on_change(workload.environment)
            return deployment

    async def stop_strays(self, known: Iterable[records.InstanceRecord]) -> None:
        """Stop recorded instances that are still running although nothing wants them."""
        known = list(known)
        strays = [r for r in known if r.pgid is not None and _alive(r)]
        await asyncio.gather(*(processes.stop_group(r.pgid or 0, 10.0) for r in strays))
        for environment in {record.environment for record in known}:
            self._enqueue(functools.partial(records.delete_instances, self.store, environment))

    # -- rollouts: two releases side by side, scaled step by step --

    def deployment_of(self, environment: str, release_id: str) -> Deployment | None:
        """The deployment of a release in an environment: serving, starting or kept warm."""
        current = self.deployments.get(environment)
        for deployment in [current, *self._retiring.get(environment, [])]:
            if deployment is not None and deployment.workload.release_id == release_id:
                return deployment
        return None

    def open(self, workload: Workload) -> Deployment:
        """The deployment of ``workload``'s release, created without instances (and without
        traffic) when the environment has none yet."""
        found = self.deployment_of(workload.environment, workload.release_id)
        if found is not None:
            return found
        deployment = Deployment(workload)
        self._retiring.setdefault(workload.environment, []).append(deployment)
        return deployment

    async def scale(
        self, deployment: Deployment, service_name: str, count: int, *, timeout: float
    ) -> None:
        """Bring the deployment's instances of a service to ``count``.

        Up: start the missing ones and wait until they are ready; when one crash-loops or is not
        ready within ``timeout`` s, the ones just started are stopped and ``SupervisorError``
        (with the end of its log) is raised. Down: stop the highest slots (the caller drains
        them first)."""
        workload = deployment.workload
        service = workload.project.services[service_name]
        async with self._lock(workload.environment):
            have = sorted(slot for (name, slot) in deployment.instances if name == service_name)
            if count < len(have):
                leaving = [deployment.instances.pop((service_name, slot)) for slot in have[count:]]
                await asyncio.gather(*(item.stop() for item in leaving))
                self._forget_instances(workload.environment, leaving)
                self.on_change(workload.environment)
                return
            started = [
                self._start_instance(deployment, service, self._free_slot(deployment, service))
                for _ in range(count - len(have))
            ]
            try:
                await self._wait_items(deployment, started, timeout)
            except BaseException:
                for item in started:
                    deployment.instances.pop((service_name, item.spec.slot), None)
                await asyncio.gather(*(item.stop() for item in started))
                self._forget_instances(workload.environment, started)
                self.on_change(workload.environment)
                raise
            self.on_change(workload.environment)

    def make_current(self, deployment: Deployment) -> None:
        """The deployment becomes the one the environment runs; the previous one stays running
        among the others (warm, or until it is scaled down)."""
        environment = deployment.workload.environment
        current = self.deployments.get(environment)
        if current is deployment:
            return
        others = self._retiring.setdefault(environment, [])
        if deployment in others:
            others.remove(deployment)
        if current is not None:
            others.append(current)
        self.deployments[environment] = deployment
        self.on_change(environment)

    async def discard(self, deployment: Deployment) -> None:
        """Stop every instance of a deployment that is not the current one, and forget it."""
        environment = deployment.workload.environment
        async with self._lock(environment):
            others = self._retiring.get(environment, [])
            if deployment in others:
                others.remove(deployment)
            if self.deployments.get(environment) is deployment:
                del self.deployments[environment]
            await self._stop_deployment(deployment)
            self._forget(deployment)
            self.on_change(environment)

    def others(self, environment: str) -> list[Deployment]:
        """Deployments of the environment besides the current one (starting, warm, retiring)."""
        return list(self._retiring.get(environment, []))

    async def _wait_items(
        self, deployment: Deployment, items: list[instance.Instance], timeout: float
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not all(item.ready for item in items):
            failed = [item for item in items if item.status.failure is not None]
            if failed:
                raise _start_failure(deployment, failed[0])
            if loop.time() >= deadline:
                waiting = [item for item in items if not item.ready]
                raise _start_failure(deployment, waiting[0], f"not ready after {timeout:g} s")
            await asyncio.sleep(0.02)

    def _forget_instances(self, environment: str, items: list[instance.Instance]) -> None:
        for item in items:
            self._ports.discard(item.spec.port)
        gone = {(i.spec.release_id, i.spec.service.name, i.spec.slot) for i in items}
        keep = [
            (d.workload.release_id, s, n)
            for d in self._all_deployments()
            if d.workload.environment == environment
            for (s, n) in d.instances
            if (d.workload.release_id, s, n) not in gone
        ]
        self._enqueue(lambda: records.delete_instances(self.store, environment, keep=keep))

    def retiring(self, environment: str) -> list[instance.Instance]:
        """The instances of releases being replaced in ``environment``."""
        return [
            item
            for deployment in self._retiring.get(environment, [])
            for item in deployment.instances.values()
        ]

    def instances(self, environment: str | None = None) -> list[instance.Instance]:
        found: list[instance.Instance] = []
        for deployment in self._all_deployments():
            if environment is None or deployment.workload.environment == environment:
                found.extend(deployment.instances.values())
        return sorted(found, key=lambda i: (i.spec.environment, i.spec.service.name, i.spec.slot))

    # -- starting and stopping --

    def _start(
        self,
        workload: Workload,
        *,
        adopt: Mapping[tuple[str, int], records.InstanceRecord] | None = None,
    ) -> Deployment:
        deployment = Deployment(workload)
        adopt = adopt or {}
        for service in workload.project.services.values():
            count = workload.replica_count(service)
            kept = sorted(slot for (name, slot) in adopt if name == service.name)[:count]
            for slot in kept:
                self._start_instance(deployment, service, slot, adopt[(service.name, slot)])
            for _ in range(count - len(kept)):
                self._start_instance(deployment, service, self._free_slot(deployment, service))
        return deployment

    def _free_slot(self, deployment: Deployment, service: project_file.Service) -> int:
        """The lowest slot no release of the environment uses for ``service``: two releases
        running side by side never share a slot, so never a log file or a store row."""
        environment = deployment.workload.environment
        used = {
            slot
            for other in [*self._all_deployments(), deployment]
            if other.workload.environment == environment
            for (name, slot) in other.instances
            if name == service.name
        }
        slot = 1
        while slot in used:
            slot += 1
        return slot

    def _start_instance(
        self,
        deployment: Deployment,
        service: project_file.Service,
        slot: int,
        record: records.InstanceRecord | None = None,
    ) -> instance.Instance:
        workload = deployment.workload
        config = (
            dict(workload.config.values)
            if workload.config is not None
            else workload.project.environment_config(workload.environment)
        )
        logs = paths.instance_logs(self.home, workload.environment)
        logs.mkdir(parents=True, exist_ok=True)
        port = record.port if record is not None else self._free_port()
        self._ports.add(port)
        spec = instance.Spec(
            environment=workload.environment,
            app=workload.app,
            release_id=workload.release_id,
            service=service,
            slot=slot,
            port=port,
            cwd=workload.tree,
            env=_environment(workload, service, slot, port, config),
            log_path=logs / f"{service.name}.{slot}.log",
            masked=workload.config.secret_values if workload.config else (),
        )
        item = instance.Instance(
            spec,
            self.policy,
            self._changed,
            restarts=record.restarts if record is not None else 0,
        )
        deployment.instances[(service.name, slot)] = item
        adopted = None
        was_ready = False
        if record is not None and record.pid is not None and _alive(record):
            adopted = processes.Spawned(
                record.pid, record.pgid or record.pid, record.start_ticks or 0
            )
            was_ready = record.state == instance.State.READY
            # Known at once, so the first route table after a restart keeps the traffic.
            item.status.state = instance.State.READY if was_ready else item.status.state
            item.status.ever_ready = was_ready
            item.status.started_at = record.started_at
            item.status.pid = record.pid
            item.status.pgid = record.pgid
            item.status.start_ticks = record.start_ticks
        item.start(adopted, was_ready=was_ready)
        return item

    async def _wait_ready(self, deployment: Deployment, timeout: float | None) -> None:
        services = deployment.workload.project.services.values()
        if timeout is None:
            periods = [s.readiness.start_period for s in services if s.readiness is not None]
            timeout = max([*periods, 0.0]) + 30.0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not deployment.ready():
            failed = deployment.failures()
            if failed:
                raise _start_failure(deployment, failed[0])
            if loop.time() >= deadline:
                waiting = [i for i in deployment.instances.values() if not i.ready]
                raise _start_failure(deployment, waiting[0], f"not ready after {timeout:g} s")
            await asyncio.sleep(0.05)

    async def _stop_deployment(self, deployment: Deployment) -> None:
        await asyncio.gather(*(item.stop() for item in deployment.instances.values()))

    def _forget(self, deployment: Deployment) -> None:
        for item in deployment.instances.values():
            self._ports.discard(item.spec.port)
        environment = deployment.workload.environment
        keep = [
            (d.workload.release_id, s, n)
            for d in self._all_deployments()
            if d.workload.environment == environment and d is not deployment
            for (s, n) in d.instances
        ]
        self._enqueue(lambda: records.delete_instances(self.store, environment, keep=keep))

    def _free_port(self) -> int:
        for _ in range(100):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.bind(("127.0.0.1", 0))
                port = int(probe.getsockname()[1])
            if port not in self._ports:
                return port
        raise SupervisorError("no free port for an instance")  # pragma: no cover

    # -- recording --

    def _changed(self, item: instance.Instance) -> None:
        record = snapshot(item)
        if item.status.state == instance.State.STOPPED:
            return  # forgotten with its deployment
        self._enqueue(lambda: records.save_instance(self.store, record))
        self.on_change(item.spec.environment)

    def _enqueue(self, write: Callable[[], None]) -> None:
        self._writes.put_nowait(write)

    async def _write_loop(self) -> None:
        while True:
            write = await self._writes.get()
            if write is None:
                return
            try:
                await asyncio.to_thread(write)
            except database.StoreError as error:  # the next change writes the instance again
                _log.warning("cannot record an instance: %s", error)


def snapshot(item: instance.Instance) -> records.InstanceRecord:
    """An instance as the store records it."""
    spec, status = item.spec, item.status
    return records.InstanceRecord(
        environment=spec.environment,
        service=spec.service.name,
        slot=spec.slot,
        release_id=spec.release_id,
        pid=status.pid,
        pgid=status.pgid,
        start_ticks=status.start_ticks,
        port=spec.port,
        state=str(status.state),
        restarts=status.restarts,
        log_path=str(spec.log_path),
        started_at=status.started_at,
        updated_at=time.time(),
        message=status.message,
    )


def _finish(done: asyncio.Future[None]) -> None:
    if not done.done():
        done.set_result(None)


def _alive(record: records.InstanceRecord) -> bool:
    return record.pid is not None and processes.is_running(record.pid, record.start_ticks)


def _same(a: Workload, b: Workload) -> bool:
    return (a.release_id, dict(a.replicas)) == (b.release_id, dict(b.replicas))


def _environment(
    workload: Workload,
    service: project_file.Service,
    slot: int,
    port: int,
    config: Mapping[str, str],
) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in HIDDEN_VARIABLES}
    return {
        **base,
        **config,
        **service.env,
        **workload.flag_env,
        "PORT": str(port),
        "SHIPYARD_APP": workload.app,
        "SHIPYARD_ENVIRONMENT": workload.environment,
        "SHIPYARD_RELEASE": workload.release_id,
        "SHIPYARD_SERVICE": service.name,
        "SHIPYARD_INSTANCE": f"{service.name}.{slot}",
    }


def _start_failure(
    deployment: Deployment, item: instance.Instance, reason: str | None = None
) -> SupervisorError:
    spec = item.spec
    why = reason or item.status.failure or item.status.message
    tail = tail_lines(spec.log_path, LOG_TAIL_LINES)
    shown = "\n    ".join(tail) if tail else "(nothing)"
    return SupervisorError(
        f"release {deployment.workload.release_id} did not start in "
        f"{spec.environment}: instance {spec.name} {why}",
        hint=f"its log ({spec.log_path}) ends with:\n    {shown}",
    )


def tail_lines(path: Path, count: int) -> list[str]:
    """The last ``count`` lines of a log file (at most its last 64 KiB)."""
    with contextlib.suppress(OSError), path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - 65536))
        text = handle.read().decode("utf-8", "replace")
        return text.splitlines()[-count:]
    return []
