"""One step: decide whether it runs, run its script or action, and record what it did."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from shipyard import expressions
from shipyard.core import errors, files
from shipyard.pipeline.run import (
    events,
    github_context,
    process,
    scripts,
    shells,
    step_io,
    uses,
)

if TYPE_CHECKING:
    from shipyard.pipeline.run import state
    from shipyard.spec import workflow


class StepHost(Protocol):
    """What a step needs from where it runs: a job, or a composite action inside a step."""

    run: state.RunState
    ref: events.JobRef
    paths: github_context.JobPaths
    status: events.Conclusion
    steps_context: dict[str, Any]
    default_ids: dict[str, int]
    """Per generated-id base (``__run``): the number its next search for a free id starts at."""
    base_env: dict[str, str]
    summary: str
    step_files: dict[str, str]
    step_file_dir: Path

    @property
    def cancelled(self) -> bool: ...

    @property
    def exported_env(self) -> dict[str, str]: ...

    @property
    def path_additions(self) -> list[str]: ...

    @property
    def env_context(self) -> dict[str, str]: ...

    def contexts(self, env: Mapping[str, str] | None = None) -> dict[str, Any]: ...

    def hooks(self) -> expressions.EvaluationHooks: ...

    def render(self, value: workflow.Value, contexts: Mapping[str, Any]) -> str: ...

    def record_step(self, step_id: str, outcome: events.Conclusion, conclusion: str) -> None: ...

    def default_shell(self) -> str | None: ...

    def default_working_directory(self) -> str | None: ...

    def add_post_step(self, name: str, action: PostAction) -> None: ...

    def record_upload(self, name: str) -> None: ...


PostAction = Callable[[step_io.StepIO], Awaitable[int]]


def new_io(host: StepHost, index: int, env: dict[str, str]) -> step_io.StepIO:
    """The StepIO of one step of ``host``, its step files ready."""
    io = step_io.StepIO(
        job=host.ref,
        index=index,
        broadcaster=host.run.broadcaster,
        masker=host.run.masker,
        file_dir=host.step_file_dir,
        env=env,
        cwd=host.paths.workspace,
        kill_grace=host.run.options.kill_grace,
    )
    io.prepare_files(host.step_files)
    return io


def render(
    value: workflow.Value, contexts: Mapping[str, Any], hooks: expressions.EvaluationHooks
) -> str:
    """A value as a string, its ``${{ }}`` evaluated: how env and with values reach a step."""
    if isinstance(value, str):
        if expressions.has_expression(value):
            result = expressions.interpolate(value, contexts, hooks=hooks)
            return result if isinstance(result, str) else expressions.to_string(result)
        return value
    return expressions.to_string(value)


class StatusView:
    """Answers ``success()``, ``failure()``, ``cancelled()`` and ``always()`` for a job's steps."""

    def __init__(self, job: StepHost) -> None:
        self._job = job

    def check(self, name: str) -> bool:
        if name == "always":
            return True
        if name == "cancelled":
            return self._job.cancelled
        if name == "failure":
            return self._job.status == "failure"
        return self._job.status == "success" and not self._job.cancelled


def display_name(step: workflow.Step) -> str:
    """GitHub's default step names: ``Run <first line of the script>`` or ``Run <action>``."""
    if step.name:
        return step.name
    if step.run is not None:
        first = next((line for line in step.run.splitlines() if line.strip()), "")
        return f"Run {first.strip()}"
    return f"Run {step.uses}"


def default_id(
    step: workflow.Step, taken: Mapping[str, Any], counters: dict[str, int] | None = None
) -> str:
    """The generated id of a step without ``id``: ``__run``, ``__run_2``, ``__actions_checkout``.

    ``counters`` remembers where the last search for each base ended: ids are only ever added
    to ``taken``, so every candidate before that is still taken, and a job of n such steps
    costs n lookups instead of n squared.
    """
    if step.run is not None:
        base = "__run"
    else:
        action = (step.uses or "").split("@", 1)[0].strip("./")
        base = "__" + "".join(ch if ch.isalnum() else "_" for ch in action)
    number = 1 if counters is None else counters.get(base, 1)
    candidate = base if number == 1 else f"{base}_{number}"
    while candidate in taken:
        number += 1
        candidate = f"{base}_{number}"
    if counters is not None:
        counters[base] = number
    return candidate


class StepRunner:
    """Runs one step of a job and records its outcome in the job."""

    def __init__(self, job: StepHost, step: workflow.Step, *, log_index: int | None = None) -> None:
        self.job = job
        self.step = step
        self.step_id = step.id or default_id(step, job.steps_context, job.default_ids)
        self.name = display_name(step)
        self.log_index = step.index if log_index is None else log_index
        self.announce = log_index is None
        """Steps of a composite action log into their parent step and are not reported apart."""
        self.env_context: dict[str, str] = {}

    async def execute(self) -> events.Conclusion:
        job, step = self.job, self.step
        started = time.monotonic()
        if step.name:
            with contextlib.suppress(expressions.ExpressionError):
                self.name = job.render(step.name, job.contexts())
        if not self._should_run():
            self._finish("skipped", "skipped", started)
            return "skipped"
        if self.announce:
            job.run.broadcaster.notify(
                events.StepStarted(
                    job=job.ref, index=step.index, name=self.name, step_id=self.step_id
                )
            )
        else:
            job.run.broadcaster.notify(
                events.LogLine(
                    job=job.ref, step_index=self.log_index, text=f"> {self.name}", kind="runner"
                )
            )
        outcome = await self._run_guarded()
        continue_on_error = self._flag(step.continue_on_error, "continue-on-error")
        conclusion: events.Conclusion = (
            "success" if outcome == "failure" and continue_on_error else outcome
        )
        self._finish(outcome, conclusion, started)
        return conclusion

    def _should_run(self) -> bool:
        condition = self.step.if_
        hooks = self.job.hooks()
        try:
            if condition is None or condition.strip() == "":
                return hooks.status is not None and hooks.status("success")
            return expressions.evaluate_condition(condition, self.job.contexts(), hooks=hooks)
        except expressions.ExpressionError as error:
            self._error_before_start(error, "if")
            return False

    def _error_before_start(self, error: errors.ShipyardError, key: str) -> None:
        source = self.step.source
        wrapped = errors.SpecError(
            error.message, location=source.where(key), key_path=source.path_of(key), hint=error.hint
        )
        self.job.run.broadcaster.notify(
            events.AnnotationAdded(
                job=self.job.ref,
                step_index=self.step.index,
                level="error",
                message=wrapped.headline(),
            )
        )
        self.job.status = "failure"

    async def _run_guarded(self) -> events.Conclusion:
        io = None
        try:
            env = self._step_environment()
            io = self._make_io(env)
            timeout = self._timeout()
            async with asyncio.timeout(timeout):
                return await self._run(io)
        except TimeoutError:
            assert io is not None
            io.error(f"The action '{self.name}' has timed out after {self._minutes()} minutes.")
            return "failure"
        except asyncio.CancelledError:
            if io is not None:
                io.runner_note("The step was cancelled.")
            return "cancelled"
        except errors.ShipyardError as error:
            message = error.headline() + (f"\n  hint: {error.hint}" if error.hint else "")
            if io is None:
                self._error_before_start(error, "run" if self.step.run is not None else "uses")
            else:
                io.error(message)
            return "failure"

    def _minutes(self) -> float | str | None:
        return self.step.timeout_minutes

    def _timeout(self) -> float | None:
        value = self.step.timeout_minutes
        if value is None:
            return None
        if isinstance(value, str):
            rendered = self.job.render(value, self.job.contexts())
            try:
                value = float(rendered)
            except ValueError:
                raise errors.SpecError(
                    f"`timeout-minutes` must be a number, the expression gave {rendered!r}",
                    location=self.step.source.where("timeout-minutes"),
                    key_path=self.step.source.path_of("timeout-minutes"),
                ) from None
        return float(value) * 60

    def _flag(self, value: bool | str, key: str) -> bool:
        if isinstance(value, bool):
            return value
        try:
            result = expressions.interpolate(value, self.job.contexts(), hooks=self.job.hooks())
        except expressions.ExpressionError:
            return False
        return bool(result) and result != "false"

    def _step_environment(self) -> dict[str, str]:
        """Host, GitHub's defaults, env exports and ``env`` layers, then PATH additions."""
        job = self.job
        env_context = job.env_context
        contexts = job.contexts(env=env_context)
        step_env: dict[str, str] = {}
        for name, value in self.step.env.items():
            step_env[name] = job.render(value, contexts)
        env_context.update(step_env)
        self.env_context = env_context
        base = job.base_env
        env = dict(base)
        for name, value in env_context.items():
            # GitHub's own GITHUB_* and RUNNER_* defaults cannot be overridden by env.
            if name not in base or not name.startswith(("GITHUB_", "RUNNER_")):
                env[name] = value
        if job.path_additions:
            env["PATH"] = ":".join([*reversed(job.path_additions), env.get("PATH", "")])
        return env

    def _make_io(self, env: dict[str, str]) -> step_io.StepIO:
        io = new_io(self.job, self.log_index, env)
        io.env["GITHUB_ACTION"] = self.step_id
        return io

    async def _run(self, io: step_io.StepIO) -> events.Conclusion:
        try:
            if self.step.run is not None:
                status = await self._run_script(io)
            else:
                status = await uses.run_action(self, io)
        finally:
            io.collect_files()
            self._apply_effects(io)
        return "success" if status == 0 and not io.effects.errors else "failure"

    async def _run_script(self, io: step_io.StepIO) -> int:
        job, step = self.job, self.step
        assert step.run is not None
        contexts = job.contexts(env=self.env_context)
        script = job.render(step.run, contexts)
        shell = step.shell or job.default_shell()
        command = shells.resolve(shell)
        path = scripts.directory(job.paths.temp) / f"{os.urandom(16).hex()}{command.extension}"
        cwd = self._working_directory(contexts)
        files.create_private(path, script)
        try:
            return await process.run(
                command.argv(str(path)),
                cwd=cwd,
                env=io.env,
                on_line=io.on_line,
                kill_grace=job.run.options.kill_grace,
            )
        finally:
            # The rendered script may hold secrets: it lives only while the step runs.
            path.unlink(missing_ok=True)

    def _working_directory(self, contexts: Mapping[str, Any]) -> Path:
        job, step = self.job, self.step
        configured = step.working_directory or job.default_working_directory()
        if not configured:
            return job.paths.workspace
        rendered = job.render(configured, contexts)
        directory = job.paths.workspace / rendered
        if not directory.is_dir():
            raise errors.ExecutionError(
                f"working-directory `{rendered}` does not exist in the workspace",
                location=step.source.where("working-directory"),
                key_path=step.source.path_of("working-directory"),
                hint="check out the repository first (actions/checkout) or fix the path",
            )
        return directory

    def _apply_effects(self, io: step_io.StepIO) -> None:
        job, effects = self.job, io.effects
        job.exported_env.update(effects.env)
        job.path_additions.extend(effects.path)
        job.summary += effects.summary
        entry = job.steps_context.setdefault(self.step_id, {"outputs": {}})
        entry["outputs"].update(effects.outputs)

    def _finish(
        self, outcome: events.Conclusion, conclusion: events.Conclusion, started: float
    ) -> None:
        job = self.job
        job.record_step(self.step_id, outcome, conclusion)
        if not self.announce:
            return
        job.run.broadcaster.notify(
            events.StepFinished(
                job=job.ref,
                index=self.step.index,
                name=self.name,
                step_id=self.step_id,
                outcome=outcome,
                conclusion=conclusion,
                duration=time.monotonic() - started,
            )
        )


class PostStepRunner:
    """A ``post`` script registered by an action, run after the job's own steps."""

    def __init__(self, job: StepHost, name: str, action: PostAction, index: int) -> None:
        self.job = job
        self.name = f"Post {name}"
        self.action = action
        self.index = index

    async def execute(self) -> events.Conclusion:
        job = self.job
        started = time.monotonic()
        step_id = f"__post_{self.index}"
        job.run.broadcaster.notify(
            events.StepStarted(job=job.ref, index=self.index, name=self.name, step_id=step_id)
        )
        env = dict(job.base_env)
        env.update(job.env_context)
        io = new_io(job, self.index, env)
        outcome: events.Conclusion
        try:
            status = await self.action(io)
            io.collect_files()
            outcome = "success" if status == 0 and not io.effects.errors else "failure"
        except asyncio.CancelledError:
            outcome = "cancelled"
        except errors.ShipyardError as error:
            io.error(error.headline())
            outcome = "failure"
        if outcome == "failure":
            job.status = "failure"
        job.run.broadcaster.notify(
            events.StepFinished(
                job=job.ref,
                index=self.index,
                name=self.name,
                step_id=step_id,
                outcome=outcome,
                conclusion=outcome,
                duration=time.monotonic() - started,
            )
        )
        return outcome
