"""Deploys on the server: requests, protection, one at a time per environment, history, recovery.

A deploy request is checked at once (release, environment, protection, settings) and either
refused with a reason, answered with its plan (dry run), or recorded and run in the background:
waiting for an approval when the environment asks for one, then for the environment's deploy lock
(refused when another deploy holds it, unless ``wait``), then the rollout. Every deploy writes its
row in the ``deploys`` table and its events in the environment's history. A server that starts
finds the deploys its killed predecessor left running, marks them ``interrupted`` and lets the
environment converge to the release recorded as serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import fnmatch
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shipyard.core.frozen import frozen
from shipyard.deploy import releases, rollout
from shipyard.deploy.strategies import planning, steps
from shipyard.flags import files
from shipyard.runtime.supervisor import supervisor
from shipyard.server import deploy_lock, deploy_target
from shipyard.spec import deploy_settings, project_deploy
from shipyard.store import deploys, events, flag_records, records

if TYPE_CHECKING:
    from shipyard.server.controller import Controller

_log = logging.getLogger(__name__)


@frozen
class DeployRequest:
    environment: str
    app: str | None = None
    release: str | None = None
    strategy: str | None = None
    overrides: Mapping[str, str] = field(default_factory=dict)
    """Deploy settings for this deploy (``--setting KEY=VALUE``)."""
    config: Mapping[str, str] = field(default_factory=dict)
    """Config values for this deploy (``--set KEY=VALUE``), over the environment's."""
    actor: str = ""
    branch: str = ""
    dry_run: bool = False
    wait: bool = False
    kind: str = "deploy"


@frozen
class Requested:
    record: deploys.DeployRecord | None
    plan: tuple[str, ...]
    strategy: str


@dataclass(slots=True)
class _Running:
    control: rollout.Control
    approval: asyncio.Future[str]
    task: asyncio.Task[None] | None = None
    clean_up: bool = False
    """Stop older warm releases once the deploy is recorded as done (still under its lock)."""
    flags: tuple[str, dict[str, Any]] | None = None
    """(source, document) of the release's flags, published once it serves (read at request)."""


class DeployManager:
    """Every deploy of this server."""

    def __init__(self, controller: Controller) -> None:
        self.controller = controller
        self.store = controller.store
        self._running: dict[int, _Running] = {}

    # -- start and stop of the server --

    async def recover(self) -> None:
        """Deploys a killed server left active are interrupted; its environment keeps the
        release recorded as serving (``restore`` then converges the instances to it)."""
        for record in await asyncio.to_thread(deploys.active, self.store):
            environment = await asyncio.to_thread(
                records.get_environment, self.store, record.environment
            )
            serving = environment.release_id if environment is not None else None
            reason = (
                f"the server stopped during the deploy (status {record.status}, "
                f"{record.weight}% on the new release); the environment runs release {serving}"
            )
            await asyncio.to_thread(self._finish, record, "interrupted", reason)

    async def close(self) -> None:
        for running in list(self._running.values()):
            if running.task is not None:
                running.task.cancel()
        for running in list(self._running.values()):
            if running.task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await running.task

    # -- requests --

    async def request(self, request: DeployRequest) -> Requested:
        c = self.controller
        before = await asyncio.to_thread(records.get_environment, self.store, request.environment)
        app = request.app or (before.app if before is not None else None)
        if app is None:
            raise _not_found(request.environment)
        release_id = request.release or c._newest_release(app)
        replicas = dict(before.replicas) if before is not None and before.app == app else {}
        workload = c._workload(
            request.environment, app, release_id, replicas, config_overrides=request.config
        )
        settings = self._settings(workload, request)
        serving = self._serving(request.environment)
        if request.kind != "rollback":  # back to a release that passed the rules already
            self._check_protection(workload, serving, request.branch)
        manifest = releases.find_release(c.releases_root, app, workload.release_id)
        flags = release_flags(workload, manifest.commit)  # a broken flags file is refused here
        target = self._target(workload, serving, settings, deploy_id=None)
        plan = tuple(steps.describe(step) for step in planning.plan(target.observe(), settings))
        if request.dry_run:
            return Requested(None, plan, settings.strategy)
        protection = self._protection(workload, serving)
        if request.kind == "rollback":
            protection = dataclasses.replace(protection, approval=False)
        if not request.wait and not protection.approval:
            await deploy_lock.refuse_if_busy(self.store, request.environment)
        record = await asyncio.to_thread(
            deploys.create,
            self.store,
            environment=request.environment,
            app=app,
            kind=request.kind,
            release_id=workload.release_id,
            commit=manifest.commit,
            previous_release_id=serving,
            strategy=settings.strategy,
            actor=request.actor,
            branch=request.branch,
            status="waiting-approval" if protection.approval else "queued",
            settings=_settings_json(settings),
        )
        running = _Running(
            rollout.Control(), asyncio.get_running_loop().create_future(), flags=flags
        )
        self._running[record.id] = running
        running.task = asyncio.get_running_loop().create_task(
            self._run(record, workload, settings, running, request.wait or protection.approval)
        )
        self._event(record, "deploy.requested", f"{request.kind} of release {record.release_id}")
        return Requested(record, plan, settings.strategy)

    def _settings(
        self, workload: supervisor.Workload, request: DeployRequest
    ) -> deploy_settings.DeploySettings:
        settings = workload.project.environments[workload.environment].deploy
        overrides = dict(request.overrides)
        if request.strategy is not None:
            overrides["strategy"] = request.strategy
        if request.kind == "rollback":
            overrides.setdefault("keep_previous", "0")
        return project_deploy.apply_overrides(settings, overrides)

    def _serving(self, environment: str) -> str | None:
        current = self.controller.supervisor.deployments.get(environment)
        return current.workload.release_id if current is not None else None

    def _protection(
        self, workload: supervisor.Workload, serving: str | None
    ) -> deploy_settings.Protection:
        """The rules of the release that serves now (a branch cannot lift them by changing its
        own shipyard.yaml); of the new release for a first deploy."""
        current = self.controller.supervisor.deployments.get(workload.environment)
        project = current.workload.project if current is not None else workload.project
        found = project.environments.get(workload.environment)
        return found.protection if found is not None else deploy_settings.Protection()

    def _check_protection(
        self, workload: supervisor.Workload, serving: str | None, branch: str
    ) -> None:
        from shipyard.server.controller import Conflict

        protection = self._protection(workload, serving)
        if not protection.branches:
            return
        if not any(fnmatch.fnmatchcase(branch, pattern) for pattern in protection.branches):
            allowed = ", ".join(f"`{b}`" for b in protection.branches)
            raise Conflict(
                f"environment `{workload.environment}` is protected: only {allowed} may be "
                f"deployed there, not {f'`{branch}`' if branch else 'a commit of no branch'}",
                hint="merge the change into an allowed branch, then deploy from there",
            )

    def _target(
        self,
        workload: supervisor.Workload,
        serving: str | None,
        settings: deploy_settings.DeploySettings,
        *,
        deploy_id: int | None,
    ) -> deploy_target.EnvironmentTarget:
        def on_traffic(weight: int) -> None:
            if deploy_id is None:
                return
            deploys.update(
                self.store,
                deploy_id,
                weight=weight,
                serving_release_id=workload.release_id if weight >= 100 else serving,
            )

        return deploy_target.EnvironmentTarget(
            self.controller, workload, serving, settings, on_traffic=on_traffic
        )

    # -- running --

    async def _run(
        self,
        record: deploys.DeployRecord,
        workload: supervisor.Workload,
        settings: deploy_settings.DeploySettings,
        running: _Running,
        wait: bool,
    ) -> None:
        holder = f"{self.controller._holder}:deploy-{record.id}"
        locked = False
        outcome: tuple[str, str] | None = None
        try:
            if record.status == "waiting-approval":
                self._event(record, "deploy.waiting", "waiting for approval")
                verdict = await running.approval
                if verdict != "approved":
                    outcome = ("rejected", verdict)
                    return
            locked = await deploy_lock.acquire(self.store, record.environment, holder, wait=wait)
            if not locked:
                outcome = ("failed", "another deploy holds the environment")
                return
            renew = asyncio.get_running_loop().create_task(
                deploy_lock.renew(self.store, record.environment, holder)
            )
            try:
                outcome = await self._roll(record, workload, settings, running)
            finally:
                renew.cancel()
        except asyncio.CancelledError:
            outcome = ("interrupted", "the server stopped during the deploy")
            raise
        except Exception as error:  # a bug: recorded, never lost
            _log.exception("deploy %d failed unexpectedly", record.id)
            outcome = ("failed", f"internal error: {error}")
        finally:
            self.controller.weights.pop(record.environment, None)
            with contextlib.suppress(Exception):
                await self.controller.apply_routes()
            if outcome is not None:
                current = await asyncio.to_thread(deploys.get, self.store, record.id)
                await asyncio.to_thread(self._finish, current or record, *outcome)
                if running.clean_up and current is not None:
                    with contextlib.suppress(Exception):
                        await self._clean_up(record.environment, current.previous_release_id)
            if locked:
                await asyncio.to_thread(
                    records.release_lock, self.store, record.environment, holder
                )
            self._running.pop(record.id, None)

    async def _roll(
        self,
        record: deploys.DeployRecord,
        workload: supervisor.Workload,
        settings: deploy_settings.DeploySettings,
        running: _Running,
    ) -> tuple[str, str]:
        c = self.controller
        serving = self._serving(record.environment)
        record = await asyncio.to_thread(
            deploys.update,
            self.store,
            record.id,
            status="running",
            started_at=time.time(),
            previous_release_id=serving,
            serving_release_id=serving,
        )
        self._event(
            record,
            "deploy.started",
            f"{record.kind} of release {record.release_id} ({record.strategy}) by "
            f"{record.actor or 'someone'}",
        )
        before = await asyncio.to_thread(records.get_environment, self.store, record.environment)
        if serving is None:  # the first run: the environment takes the new release at once
            await asyncio.to_thread(
                records.set_environment,
                self.store,
                record.environment,
                app=workload.app,
                release_id=workload.release_id,
                desired="up",
                replicas=workload.replicas,
                config=workload.overrides,
            )
        try:
            await c._claim_port(workload)
        except Exception:
            await asyncio.to_thread(c._restore_record, record.environment, before)
            raise
        target = self._target(workload, serving, settings, deploy_id=record.id)

        def observe(kind: str, summary: str, details: Mapping[str, Any]) -> None:
            self._event(record, kind, summary, details)

        def on_pause(paused: bool) -> None:
            deploys.update(self.store, record.id, status="paused" if paused else "running")

        outcome = await rollout.Rollout(
            target, settings, observer=observe, control=running.control, on_pause=on_pause
        ).run()
        if outcome.status == "succeeded":
            running.clean_up = True
            await asyncio.to_thread(self._publish_flags, record, running.flags)
        if outcome.status != "succeeded" and serving is None:
            await asyncio.to_thread(c._restore_record, record.environment, before)
            if c.supervisor.deployments.get(record.environment) is None:
                c._ports.pop(record.environment, None)
        return outcome.status, outcome.reason

    async def _clean_up(self, environment: str, keep: str | None) -> None:
        """Stop, after the new release serves, the releases an earlier deploy kept warm (all
        but ``keep``, the one this deploy keeps warm, when it does)."""
        c = self.controller
        warm = set(c.warm.releases(environment)) - {keep}
        for deployment in c.supervisor.others(environment):
            release = deployment.workload.release_id
            if release in warm or (release != keep and not deployment.instances):
                await c.warm.discard(environment, keep=keep or "", only=release)

    def _finish(self, record: deploys.DeployRecord, status: str, reason: str) -> None:
        deploys.update(self.store, record.id, status=status, reason=reason, finished_at=time.time())
        kind = {
            "succeeded": "deploy.rolled_back" if record.kind == "rollback" else "deploy.succeeded",
        }.get(status, f"deploy.{status}")
        summary = f"{record.kind} of release {record.release_id} {status}"
        self._event(record, kind, summary + (f": {reason}" if reason else ""))

    def _publish_flags(
        self, record: deploys.DeployRecord, flags: tuple[str, dict[str, Any]] | None
    ) -> None:
        """The release serves: its flags file (with the environment's overrides) becomes the
        environment's flags. Runtime changes made with ``shipyard flags`` stay on top."""
        if flags is None:
            return
        source, document = flags
        try:
            flag_records.publish(
                self.store,
                record.environment,
                document,
                source=source,
                actor=record.actor,
                summary=f"published {len(document.get('flags', {}))} flag(s) from {source}",
            )
        except Exception as error:  # the deploy is done; say what was not published
            _log.error("deploy %d: flags not published: %s", record.id, error)
            self._event(record, "flags.not_published", f"flags not published: {error}")

    def _event(
        self,
        record: deploys.DeployRecord,
        kind: str,
        summary: str,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        events.record_event(
            self.store,
            record.environment,
            kind,
            summary=summary,
            actor=record.actor,
            details={"deploy": record.id, "release": record.release_id, **(details or {})},
        )

    async def rollback(self, environment: str, to: str | None, actor: str) -> Requested:
        """Back to ``to`` (default: the release that served before the current one)."""
        from shipyard.server.controller import Conflict

        serving = self._serving(environment)
        target = to
        if target is None:
            for record in await asyncio.to_thread(deploys.history, self.store, environment):
                if record.status == "succeeded" and record.release_id == serving:
                    target = record.previous_release_id
                    break
        if target is None or target == serving:
            raise Conflict(
                f"environment `{environment}` has no previous release to roll back to",
                hint="name one: `shipyard rollback ENV --to RELEASE` (see `shipyard deploys ENV`)",
            )
        return await self.request(
            DeployRequest(environment=environment, release=target, actor=actor, kind="rollback")
        )

    # -- buttons --

    def _running_in(self, environment: str) -> tuple[deploys.DeployRecord, _Running]:
        from shipyard.server.controller import Conflict

        for deploy_id, running in self._running.items():
            record = deploys.get(self.store, deploy_id)
            if (
                record is not None
                and record.environment == environment
                and record.status
                in (
                    "running",
                    "paused",
                )
            ):
                return record, running
        raise Conflict(
            f"no deploy is running in environment `{environment}`",
            hint="see its history: `shipyard deploys ENV`",
        )

    async def promote(self, environment: str, actor: str) -> deploys.DeployRecord:
        record, running = await asyncio.to_thread(self._running_in, environment)
        await asyncio.to_thread(self._event, record, "deploy.promote", f"promoted by {actor}")
        running.control.promote()
        return await self._moved_on(record)

    async def _moved_on(self, record: deploys.DeployRecord) -> deploys.DeployRecord:
        """The deploy once it has left the pause it was in (so a follower sees it move)."""
        for _ in range(250):
            found = await asyncio.to_thread(deploys.get, self.store, record.id)
            if found is None or found.status != "paused":
                return found or record
            await asyncio.sleep(0.02)
        return record

    async def abort(self, environment: str, actor: str) -> deploys.DeployRecord:
        record, running = await asyncio.to_thread(self._running_in, environment)
        running.control.abort(f"by {actor or 'someone'}")
        return await self._moved_on(record)

    async def decide(self, deploy_id: int, actor: str, *, approve: bool) -> deploys.DeployRecord:
        from shipyard.server.controller import Conflict, NotFound

        record = await asyncio.to_thread(deploys.get, self.store, deploy_id)
        if record is None:
            raise NotFound(f"no deploy {deploy_id}", hint="list them: `shipyard deploys ENV`")
        running = self._running.get(deploy_id)
        if record.status != "waiting-approval" or running is None:
            raise Conflict(
                f"deploy {deploy_id} is not waiting for approval (it is {record.status})"
            )
        if approve:
            record = await asyncio.to_thread(
                deploys.update,
                self.store,
                deploy_id,
                status="queued",
                approved_by=actor,
                approved_at=time.time(),
            )
            await asyncio.to_thread(self._event, record, "deploy.approved", f"approved by {actor}")
            running.approval.set_result("approved")
        else:
            running.approval.set_result(f"rejected by {actor or 'someone'}")
        return record


def release_flags(workload: supervisor.Workload, commit: str) -> tuple[str, dict[str, Any]] | None:
    """(source, flagd document) a release brings to its environment: its flags file with the
    environment's overrides; None when the project has no flags file. A flag the file gets
    wrong refuses the deploy, naming it."""
    from shipyard.server.controller import Conflict

    loaded = workload.project
    if loaded.flags.file is None:
        return None
    found = files.project_flags(workload.tree, loaded, workload.environment)
    if found.problems:
        shown = "; ".join(str(problem) for problem in found.problems[:3])
        raise Conflict(
            f"the release's flags file has {len(found.problems)} invalid flag(s): {shown}",
            hint="fix the flags file and deploy a new release; nothing was changed",
        )
    return f"{loaded.flags.file}@{commit[:12]}", dict(found.document())


def _settings_json(settings: deploy_settings.DeploySettings) -> dict[str, Any]:
    return dataclasses.asdict(settings)


def _not_found(environment: str) -> Exception:
    from shipyard.server.controller import NotFound

    return NotFound(
        f"unknown environment `{environment}`",
        hint="name the app: run `shipyard deploy` where its shipyard.yaml is",
    )
