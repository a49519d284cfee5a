"""One job instance (a job, or one combination of its matrix) run from first step to last.

The job owns its workspace, its environment as steps change it, the ``steps`` context and its
status. Steps run in order; a failure makes later steps skip unless their ``if`` asks for
``failure()`` or ``always()``; cancellation (Ctrl-C, the job's timeout, fail-fast) stops the
current step's process group and still runs the steps that ask for ``always()`` or
``cancelled()``. Whatever the job started is ended when it finishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import field
from pathlib import Path
from typing import Any

from shipyard import expressions
from shipyard.core import errors
from shipyard.core.frozen import record
from shipyard.pipeline.run import events, github_context, process, scripts, state, steps, uses
from shipyard.spec import workflow


@record
class JobOutcome:
    """How a job instance ended, as ``needs.<id>`` shows it."""

    conclusion: events.Conclusion
    outputs: dict[str, str] = field(default_factory=dict)


class JobRunner:
    """Runs one job instance. ``cancel`` may be called at any time from the same event loop."""

    def __init__(
        self,
        run: state.RunState,
        job: workflow.Job,
        ref: events.JobRef,
        *,
        matrix: Mapping[str, Any] | None,
        strategy: Mapping[str, Any],
        needs: Mapping[str, Any],
    ) -> None:
        self.run = run
        self.job = job
        self.ref = ref
        self.matrix = dict(matrix) if matrix is not None else {}
        self.strategy = dict(strategy)
        self.needs = dict(needs)
        self.status: events.Conclusion = "success"
        self.cancelled = False
        self.timed_out = False
        self.steps_context: dict[str, Any] = {}
        self.default_ids: dict[str, int] = {}
        self.exported_env: dict[str, str] = {}
        self.path_additions: list[str] = []
        self.summary = ""
        self.post_steps: list[tuple[str, steps.PostAction]] = []
        self.uploaded_artifacts: list[str] = []
        self.step_files: dict[str, str] = {}
        """GITHUB_OUTPUT and the other step files, created once and emptied after each step."""
        self._current: asyncio.Task[events.Conclusion] | None = None
        self._tracking_id = os.urandom(16).hex()
        self.secrets: Mapping[str, str] = run.secrets
        self.variables: dict[str, str] = dict(run.options.variables)
        slug = _slug(ref.key)
        root = run.run_dir / "jobs" / slug
        self.paths = github_context.JobPaths(
            root=root,
            workspace=root / "workspace",
            temp=root / "temp",
            tool_cache=run.tool_cache,
            event_path=run.run_dir / "event.json",
        )
        self.log_dir = run.run_dir / "logs" / slug
        self.step_file_dir: Path = self.paths.temp
        """Where the step files are: a directory of this job's in memory when there is one."""

    # -- control ----------------------------------------------------------------------------

    def cancel(self) -> None:
        """Stop the running step; later steps run only if they ask for always() or cancelled()."""
        self.cancelled = True
        if self._current is not None and not self._current.done():
            self._current.cancel()

    def _time_out(self) -> None:
        self.timed_out = True
        self.cancel()

    # -- the job ----------------------------------------------------------------------------

    async def execute(self) -> JobOutcome:
        started = time.monotonic()
        self.run.broadcaster.notify(events.JobStarted(job=self.ref))
        self._prepare_directories()
        loop = asyncio.get_running_loop()
        timer: asyncio.TimerHandle | None = None
        outputs: dict[str, str] = {}
        try:
            self._enter_environment()
            for step in self.job.steps:
                if step.uses is not None:
                    uses.check_available(step.uses, self.run.options.home)
            self._evaluate_job_environment()
            minutes = self._number(self.job.timeout_minutes, "timeout-minutes")
            timer = loop.call_later(minutes * 60, self._time_out)
            for step in self.job.steps:
                await self._run_step(step)
            for name, action in reversed(self.post_steps):
                await self._run_post(name, action)
            outputs = self._evaluate_outputs()
        except errors.ShipyardError as error:
            self._job_error(error)
        finally:
            if timer is not None:
                timer.cancel()
            await process.end_tracked(
                self._tracking_id, self.run.options.kill_grace, self.run.older_pids
            )
            # RUNNER_TEMP is per job, as on GitHub; what steps left there may be secret.
            shutil.rmtree(self.paths.temp, ignore_errors=True)
            if self.step_file_dir != self.paths.temp:
                shutil.rmtree(self.step_file_dir, ignore_errors=True)
        if self.timed_out:
            self._job_error(
                errors.ExecutionError(
                    "The job has exceeded the maximum execution time of "
                    f"{self.job.timeout_minutes} minutes."
                )
            )
        conclusion = self._conclusion()
        self.run.broadcaster.notify(
            events.JobFinished(
                job=self.ref,
                conclusion=conclusion,
                outputs=outputs,
                duration=time.monotonic() - started,
                summary=self.summary,
                environment=self._environment(),
            )
        )
        return JobOutcome(conclusion, outputs)

    def _conclusion(self) -> events.Conclusion:
        if self.timed_out or self.status == "failure":
            return "failure"
        if self.cancelled:
            return "cancelled"
        return "success"

    def _job_error(self, error: errors.ShipyardError) -> None:
        self.status = "failure"
        text = error.headline() + (f" (hint: {error.hint})" if error.hint else "")
        message = self.run.masker.mask(text)
        self.run.broadcaster.notify(
            events.AnnotationAdded(job=self.ref, step_index=None, level="error", message=message)
        )
        self.run.broadcaster.notify(
            events.LogLine(job=self.ref, step_index=None, text=f"Error: {message}", kind="runner")
        )

    def _prepare_directories(self) -> None:
        for directory in (self.paths.workspace, self.paths.temp, self.log_dir):
            directory.mkdir(parents=True, exist_ok=True)
        # In memory, as the scripts are: step files may hold secrets, and a file made and
        # emptied there costs a fraction of one on a journaling disk.
        self.step_file_dir = scripts.job_directory(self._tracking_id, self.paths.temp)
        self.github = github_context.github_context(
            self.run.options,
            run_id=self.run.run_id,
            workflow_name=self.run.workflow.display_name,
            workflow_path=self.run.workflow.path,
            job_id=self.job.id,
            paths=self.paths,
            event=self.run.event,
            token=self.run.token,
        )
        self.runner = github_context.runner_context(self.paths)
        self.base_env = dict(os.environ)
        self.base_env.update(self.run.options.env)
        self.base_env.update(github_context.default_environment(self.github, self.runner))
        self.base_env[process.TRACKING_VARIABLE] = self._tracking_id

    # -- contexts and expressions -----------------------------------------------------------

    def contexts(self, env: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The contexts a step's expressions see."""
        return {
            "github": self.github,
            "env": dict(self.env_context if env is None else env),
            "vars": dict(self.variables),
            "job": {"status": self.status, "container": {}, "services": {}},
            "steps": self.steps_context,
            "runner": self.runner,
            "secrets": self.secrets,
            "strategy": self.strategy,
            "matrix": self.matrix,
            "needs": self.needs,
            "inputs": dict(self.run.inputs),
        }

    def default_shell(self) -> str | None:
        return self.job.defaults.shell or self.run.workflow.defaults.shell

    def default_working_directory(self) -> str | None:
        return self.job.defaults.working_directory or self.run.workflow.defaults.working_directory

    def add_post_step(self, name: str, action: steps.PostAction) -> None:
        """Run ``action`` after the job's steps (in reverse order of registration)."""
        self.post_steps.append((name, action))

    def record_upload(self, name: str) -> None:
        """An artifact this job uploaded (the job cache replays it with the job)."""
        self.uploaded_artifacts.append(name)

    def hooks(self) -> expressions.EvaluationHooks:
        return expressions.EvaluationHooks(
            status=steps.StatusView(self).check,
            hash_files=self._hash_files,
        )

    def _hash_files(self, patterns: Sequence[str]) -> str:
        from shipyard.pipeline import hashfiles  # only hashFiles() needs it: imported then

        return hashfiles.hash_files(self.paths.workspace, patterns)

    def render(self, value: workflow.Value, contexts: Mapping[str, Any]) -> str:
        """A value as a string, its ``${{ }}`` evaluated: how env and with values reach a step."""
        return steps.render(value, contexts, self.hooks())

    def _enter_environment(self) -> None:
        """A job with ``environment:`` sees that environment's secrets and vars over the run's."""
        load = self.run.options.environment_loader
        if self.job.environment is None or load is None:
            return
        name = self.render(self.job.environment.name, self.contexts(env={}))
        secrets, variables = load(name)
        for value in secrets.values():
            self.run.masker.add(value)
        self.secrets = {**self.run.secrets, **secrets}
        self.variables.update(variables)

    def _evaluate_job_environment(self) -> None:
        contexts = self.contexts(env={})
        env: dict[str, str] = {}
        for layer in (self.run.workflow.env, self.job.env):
            for name, value in layer.items():
                contexts["env"] = env
                env[name] = self.render(value, contexts)
        self.workflow_env = env

    @property
    def env_context(self) -> dict[str, str]:
        """``env``: GITHUB_ENV exports, then workflow and job ``env`` on top (GitHub's order)."""
        merged = dict(self.exported_env)
        merged.update(self.workflow_env)
        return merged

    def _number(self, value: float | str, key: str) -> float:
        if isinstance(value, str):
            result = expressions.interpolate(value, self.contexts(), hooks=self.hooks())
            try:
                return float(result)
            except (TypeError, ValueError):
                raise errors.SpecError(
                    f"`{key}` must be a number, the expression gave {result!r}",
                    location=self.job.source.where(key),
                    key_path=self.job.source.path_of(key),
                ) from None
        return float(value)

    # -- steps ------------------------------------------------------------------------------

    async def _run_step(self, step: workflow.Step) -> None:
        runner = steps.StepRunner(self, step)
        task = asyncio.ensure_future(runner.execute())
        self._current = task
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            if not task.done():
                # Our own caller was cancelled (the whole run is going down): stop the step too.
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                raise
        finally:
            self._current = None

    async def _run_post(self, name: str, action: steps.PostAction) -> None:
        index = len(self.job.steps) + len(self.steps_context)
        post = steps.PostStepRunner(self, name, action, index)
        task = asyncio.ensure_future(post.execute())
        self._current = task
        try:
            await asyncio.shield(task)
        finally:
            self._current = None

    def record_step(self, step_id: str, outcome: events.Conclusion, conclusion: str) -> None:
        """Update the job after a step: its status and the ``steps`` context."""
        if conclusion == "failure":
            self.status = "failure"
        entry = self.steps_context.setdefault(step_id, {"outputs": {}})
        entry["outcome"] = outcome
        entry["conclusion"] = conclusion

    def _environment(self) -> dict[str, str] | None:
        """The deployment environment's name and URL, evaluated once the steps have run."""
        environment = self.job.environment
        if environment is None:
            return None
        recorded = {}
        contexts = self.contexts()
        for key, value in (("name", environment.name), ("url", environment.url)):
            if value is None:
                continue
            try:
                recorded[key] = self.render(value, contexts)
            except expressions.ExpressionError as error:
                self._job_error(error.at(location=self.job.source.where("environment")))
        return recorded

    def _evaluate_outputs(self) -> dict[str, str]:
        outputs: dict[str, str] = {}
        contexts = self.contexts()
        for name, template in self.job.outputs.items():
            try:
                value = self.render(template, contexts)
            except expressions.ExpressionError as error:
                raise errors.SpecError(
                    error.message,
                    location=self.job.source.where(f"outputs.{name}"),
                    key_path=self.job.source.path_of(f"outputs.{name}"),
                ) from error
            if value != self.run.masker.mask(value):
                self.run.broadcaster.notify(
                    events.AnnotationAdded(
                        job=self.ref,
                        step_index=None,
                        level="warning",
                        message=f"Skip output '{name}' since it may contain secret.",
                    )
                )
                continue
            outputs[name] = value
        return outputs


def _slug(key: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in key)
    return "-".join(part for part in cleaned.split("-") if part) or "job"
