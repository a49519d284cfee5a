"""What a built-in action is given and what it may do.

A built-in action (``actions/checkout``, ``actions/setup-python`` ...) is Shipyard's own
implementation of a popular action, so workflows that use it run offline on the host. Each lives in
its own module in this package and is listed once in ``registry``. An action never prints and never
starts a process by itself: it logs, sets outputs and runs commands through ``ActionIO``, which the
runner implements (masking, process groups, cancellation and log files come with it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from shipyard.core import errors
from shipyard.core.frozen import frozen


class ActionFailed(errors.ExecutionError):
    """The action ran and failed; the step fails with this message as an error annotation."""


@frozen
class RepositoryInfo:
    """The local repository a run was started from, and the commit the event points at."""

    root: Path
    sha: str
    ref: str
    name: str  # owner/name as GitHub would show it


@frozen
class ActionCall:
    """One invocation of an action: its ``with:`` inputs (already evaluated) and surroundings."""

    uses: str
    inputs: Mapping[str, str]
    workspace: Path
    temp: Path
    tool_cache: Path
    artifacts: Path
    env: Mapping[str, str]
    repository: RepositoryInfo
    job_key: str
    cache_root: Path | None = None
    """The content-addressed store (``$SHIPYARD_HOME/cache``) for actions/cache; None: no cache."""

    def input(self, name: str, default: str = "") -> str:
        """An input by name (case-insensitive, as GitHub treats them); ``default`` when unset."""
        wanted = name.lower()
        for key, value in self.inputs.items():
            if key.lower() == wanted and value != "":
                return value
        return default


class ActionIO(Protocol):
    """The runner's side: everything an action may do to the job and the world."""

    def log(self, line: str) -> None:
        """Write a line to the step's log (masked)."""

    def warning(self, message: str) -> None:
        """Record a warning annotation on the step."""

    def set_output(self, name: str, value: str) -> None:
        """Set a step output (``steps.<id>.outputs.<name>``)."""

    def export_env(self, name: str, value: str) -> None:
        """Set an environment variable for the following steps of the job."""

    def add_path(self, path: str) -> None:
        """Prepend a directory to PATH for the following steps of the job."""

    def add_mask(self, value: str) -> None:
        """Mask a value in every later line of output."""

    async def run_command(
        self, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str] | None = None
    ) -> int:
        """Run a process in its own process group, its output going to the step log.

        Returns the exit status. ``env`` replaces the step environment when given.
        """
        ...

    def add_post_step(
        self, name: str, action: Callable[[ActionIO], Awaitable[None]], *, if_success: bool
    ) -> None:
        """Run ``action`` after the job's steps (a ``post`` step), only when the job has
        succeeded so far if ``if_success``; it may raise ``ActionFailed`` like ``run``."""


class BuiltinAction(Protocol):
    """One built-in action."""

    names: tuple[str, ...]
    """Action names without ``@ref`` that this implements, lower-case (``actions/checkout``)."""

    async def run(self, call: ActionCall, io: ActionIO) -> None:
        """Do the action's work; raise ``ActionFailed`` to fail the step."""
        ...
