"""Composite actions: an action made of steps, run inside the step that uses it.

Its steps see the action's ``inputs``, their own ``steps`` context and ``github.action_path``;
what they export with ``GITHUB_ENV``/``GITHUB_PATH`` reaches the rest of the job, as on GitHub.
Their output goes to the calling step's log. Composite actions may use other composite actions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shipyard import expressions
from shipyard.core import errors
from shipyard.pipeline.run import events, step_io, steps
from shipyard.spec import action_file, workflow

MAX_NESTING = 9
"""GitHub allows composite actions to nest ten deep."""


class CompositeHost:
    """Where a composite action's steps run: the calling step's job, with its own step state."""

    def __init__(
        self,
        caller: steps.StepRunner,
        io: step_io.StepIO,
        directory: Path,
        inputs: Mapping[str, str],
    ) -> None:
        self.parent = caller.job
        self.caller = caller
        self.run = self.parent.run
        self.ref = self.parent.ref
        self.paths = self.parent.paths
        self.status: events.Conclusion = "success"
        self.steps_context: dict[str, Any] = {}
        self.default_ids: dict[str, int] = {}
        self.step_file_dir: Path = self.parent.step_file_dir
        self.base_env = dict(io.env)
        self.directory = directory
        self.inputs = dict(inputs)
        self.depth = getattr(self.parent, "depth", 0) + 1
        # A composite's steps run inside the calling step, whose files are still being
        # written: they get files of their own, shared among themselves.
        self.step_files: dict[str, str] = {}

    # Shared with the job: cancellation, exports, PATH, the step summary.
    @property
    def cancelled(self) -> bool:
        return self.parent.cancelled

    @property
    def exported_env(self) -> dict[str, str]:
        return self.parent.exported_env

    @property
    def path_additions(self) -> list[str]:
        return self.parent.path_additions

    @property
    def summary(self) -> str:
        return self.parent.summary

    @summary.setter
    def summary(self, value: str) -> None:
        self.parent.summary = value

    @property
    def env_context(self) -> dict[str, str]:
        merged = dict(self.parent.exported_env)
        merged.update(self.caller.env_context)
        return merged

    def contexts(self, env: Mapping[str, str] | None = None) -> dict[str, Any]:
        contexts = self.parent.contexts(env=self.env_context if env is None else env)
        contexts["github"] = {**contexts["github"], "action_path": str(self.directory)}
        contexts["steps"] = self.steps_context
        contexts["inputs"] = self.inputs
        return contexts

    def hooks(self) -> expressions.EvaluationHooks:
        parent = self.parent.hooks()
        return expressions.EvaluationHooks(
            status=steps.StatusView(self).check, hash_files=parent.hash_files
        )

    def render(self, value: workflow.Value, contexts: Mapping[str, Any]) -> str:
        return steps.render(value, contexts, self.hooks())

    def record_step(self, step_id: str, outcome: events.Conclusion, conclusion: str) -> None:
        if conclusion == "failure":
            self.status = "failure"
        entry = self.steps_context.setdefault(step_id, {"outputs": {}})
        entry["outcome"] = outcome
        entry["conclusion"] = conclusion

    def default_shell(self) -> str | None:
        return None

    def default_working_directory(self) -> str | None:
        return None

    def add_post_step(self, name: str, action: steps.PostAction) -> None:
        self.parent.add_post_step(name, action)

    def record_upload(self, name: str) -> None:
        self.parent.record_upload(name)


async def run(
    caller: steps.StepRunner,
    io: step_io.StepIO,
    directory: Path,
    definition: action_file.ActionDefinition,
    inputs: Mapping[str, str],
) -> int:
    """Run the action's steps; set its outputs on the calling step. 0 when it succeeded."""
    host = CompositeHost(caller, io, directory, inputs)
    if host.depth > MAX_NESTING:
        raise errors.ExecutionError(
            f"composite actions nest deeper than {MAX_NESTING} levels at {definition.path}",
            hint="look for an action that uses itself",
        )
    for step in definition.steps:
        await steps.StepRunner(host, step, log_index=caller.log_index).execute()
    contexts = host.contexts()
    for name, output in definition.outputs.items():
        if output.value is not None:
            io.set_output(name, host.render(output.value, contexts))
    if host.cancelled:
        raise asyncio.CancelledError
    return 0 if host.status == "success" else 1
