"""One step's conversation with the runner: output lines, workflow commands and step files.

``StepIO`` is given to whatever executes a step (a script, a built-in action, a JavaScript action).
It turns output lines into masked log events, applies workflow commands (``::add-mask::``,
annotations, groups, legacy ``set-output``), prepares the ``GITHUB_OUTPUT``/``GITHUB_ENV``/...
files before the step and reads them back after it.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import field
from pathlib import Path

from shipyard.core.frozen import record
from shipyard.pipeline.actions import interface
from shipyard.pipeline.run import commands, envfiles, events, process
from shipyard.secrets import masking

PostAction = Callable[[interface.ActionIO], Awaitable[None]]
"""A built-in action's post step (actions/cache saves in one)."""

FILE_COMMANDS = {
    "GITHUB_OUTPUT": "set_output",
    "GITHUB_ENV": "set_env",
    "GITHUB_PATH": "add_path",
    "GITHUB_STATE": "save_state",
    "GITHUB_STEP_SUMMARY": "step_summary",
}


@record
class StepEffects:
    """What a step changed: its outputs, and what it left for the following steps."""

    outputs: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    path: list[str] = field(default_factory=list)
    state: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    errors: list[str] = field(default_factory=list)


class StepIO:
    """Implements ``ActionIO`` for one step and collects its ``StepEffects``."""

    def __init__(
        self,
        *,
        job: events.JobRef,
        index: int | None,
        broadcaster: events.Broadcaster,
        masker: masking.Masker,
        file_dir: Path,
        env: Mapping[str, str],
        cwd: Path,
        kill_grace: float,
        debug: bool = False,
    ) -> None:
        self.job = job
        self.index = index
        self.effects = StepEffects()
        self._broadcaster = broadcaster
        self._masker = masker
        self._processor = commands.CommandProcessor()
        self._file_dir = file_dir
        self._files: dict[str, str] = {}
        self.env = dict(env)
        self.cwd = cwd
        self._kill_grace = kill_grace
        self._debug = debug
        self.failed_reason: str | None = None
        self.post_steps: list[
            tuple[str, Callable[[interface.ActionIO], Awaitable[None]], bool]
        ] = []

    # -- step files -------------------------------------------------------------------------

    def prepare_files(self, shared: dict[str, str] | None = None) -> dict[str, str]:
        """Create the empty step files; returns the variables that point at them.

        ``shared`` (one per job) lets the steps of a job reuse the same five files: each is
        emptied after its step is read, which costs a fraction of creating and deleting files.
        """
        files = shared if shared is not None else {}
        if len(files) != len(FILE_COMMANDS):
            token = os.urandom(6).hex()
            directory = os.fspath(self._file_dir)
            for variable, stem in FILE_COMMANDS.items():
                if variable not in files:
                    path = f"{directory}/{stem}_{token}"
                    os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o600))
                    files[variable] = path
        self._files = files
        self.env.update(files)
        return dict(files)

    def collect_files(self) -> None:
        """Read the step files back into ``effects`` and empty them (they may hold secrets).

        A malformed file fails the step. A file the step deleted is created again next time.
        """
        for variable, path in list(self._files.items()):
            try:
                if os.stat(path).st_size == 0:  # the usual case: nothing written
                    continue
                with open(path, encoding="utf-8", errors="replace") as handle:
                    text = handle.read()
                os.truncate(path, 0)
            except FileNotFoundError:
                del self._files[variable]
                continue
            try:
                self._apply_file(variable, text)
            except envfiles.EnvFileError as error:
                self.error(error.message)
                self.effects.errors.append(error.message)

    def _apply_file(self, variable: str, text: str) -> None:
        if variable == "GITHUB_PATH":
            self.effects.path.extend(envfiles.parse_path_file(text))
        elif variable == "GITHUB_STEP_SUMMARY":
            problem = envfiles.step_summary_error(len(text.encode("utf-8")))
            if problem is not None:
                self.warning(problem)
            else:
                self.effects.summary += text
        elif variable == "GITHUB_ENV":
            updates = envfiles.parse_env_file(text, file_name=variable)
            for refusal in updates.refusals:
                self.error(refusal)
            self.effects.env.update(dict(updates.variables))
        else:
            pairs = envfiles.parse_key_value_file(text, file_name=variable)
            target = {
                "GITHUB_OUTPUT": self.effects.outputs,
                "GITHUB_ENV": self.effects.env,
                "GITHUB_STATE": self.effects.state,
            }[variable]
            for name, value in pairs:
                target[name] = value

    # -- output -----------------------------------------------------------------------------

    def on_line(self, raw: str) -> None:
        """A line of the step's own output: commands applied, the rest masked and logged."""
        text, found = self._processor.process_line(raw)
        for event in found:
            self._apply_command(event)
        if text is not None:
            self._emit(text)

    def _apply_command(self, event: commands.Event) -> None:
        if isinstance(event, commands.AddMask):
            self._masker.add(event.value)
        elif isinstance(event, commands.SetOutput):
            self.effects.outputs[event.name] = event.value
        elif isinstance(event, commands.SaveState):
            self.effects.state[event.name] = event.value
        elif isinstance(event, commands.GroupStart):
            self._emit(event.title, kind="group-start")
        elif isinstance(event, commands.GroupEnd):
            self._emit("", kind="group-end")
        elif isinstance(event, commands.Annotation):
            self._annotate(event)
        elif isinstance(event, commands.CommandFailed):
            self.effects.errors.append(f"workflow command failed: {event.command}")

    def _annotate(self, annotation: commands.Annotation) -> None:
        if annotation.level == "debug":
            if self._debug:
                self._emit(f"##[debug]{annotation.message}", kind="debug")
            return
        message = self._masker.mask(annotation.message)
        self._broadcaster.notify(
            events.AnnotationAdded(
                job=self.job,
                step_index=self.index,
                level=annotation.level,
                message=message,
                file=annotation.file,
                line=annotation.line,
                end_line=annotation.end_line,
                column=annotation.column,
                end_column=annotation.end_column,
                title=annotation.title,
            )
        )
        self._emit(f"{annotation.level.capitalize()}: {message}", masked=True)

    def _emit(self, text: str, *, kind: events.LogKind = "output", masked: bool = False) -> None:
        self._broadcaster.notify(
            events.LogLine(
                job=self.job,
                step_index=self.index,
                text=text if masked else self._masker.mask(text),
                kind=kind,
            )
        )

    # -- ActionIO ---------------------------------------------------------------------------

    def log(self, line: str) -> None:
        self._emit(line)

    def runner_note(self, line: str) -> None:
        """A line from Shipyard itself, not from the step."""
        self._emit(line, kind="runner")

    def error(self, message: str) -> None:
        self._annotate(commands.Annotation(level="error", message=message))

    def warning(self, message: str) -> None:
        self._annotate(commands.Annotation(level="warning", message=message))

    def set_output(self, name: str, value: str) -> None:
        self.effects.outputs[name] = value

    def export_env(self, name: str, value: str) -> None:
        self.effects.env[name] = value
        self.env[name] = value

    def add_path(self, path: str) -> None:
        self.effects.path.append(path)
        self.env["PATH"] = f"{path}:{self.env.get('PATH', '')}"

    def add_mask(self, value: str) -> None:
        self._masker.add(value)

    def add_post_step(
        self,
        name: str,
        action: Callable[[interface.ActionIO], Awaitable[None]],
        *,
        if_success: bool,
    ) -> None:
        self.post_steps.append((name, action, if_success))

    async def run_command(
        self, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str] | None = None
    ) -> int:
        return await process.run(
            argv,
            cwd=cwd,
            env=self.env if env is None else env,
            on_line=self.log,
            kill_grace=self._kill_grace,
        )
