"""Running a helper command through ``ActionIO`` and reading what it printed.

``ActionIO.run_command`` sends a process's output to the step log and returns only its exit
status. When a built-in needs a value from a command (a tool's version, a commit id), it runs
the command through ``/bin/sh`` with standard output redirected to a scratch file: the runner
still supervises the process (process group, cancellation, timeouts) and standard error still
reaches the step log, so a failure explains itself. Never used for work whose output the person
reading the log should see.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from shipyard.core.frozen import frozen
from shipyard.pipeline.actions import interface

_REDIRECT = 'exec "$@" >"$0"'


@frozen
class CommandOutput:
    """What a helper command returned and printed on standard output."""

    status: int
    stdout: str

    @property
    def ok(self) -> bool:
        return self.status == 0


async def output_of(
    io: interface.ActionIO,
    argv: Sequence[str],
    *,
    cwd: Path,
    scratch: Path,
    env: Mapping[str, str] | None = None,
) -> CommandOutput:
    """Run ``argv`` and capture its standard output; ``scratch`` holds the capture file."""
    scratch.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix="stdout-", dir=scratch)
    os.close(handle)
    try:
        status = await io.run_command(["/bin/sh", "-c", _REDIRECT, name, *argv], cwd=cwd, env=env)
        text = Path(name).read_text(encoding="utf-8", errors="replace")
        return CommandOutput(status, text)
    finally:
        os.unlink(name)


def environment(
    base: Mapping[str, str],
    *,
    drop: Iterable[str] = (),
    drop_prefixes: Iterable[str] = (),
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """A copy of ``base`` without some variables and with ``extra`` set."""
    dropped = set(drop)
    prefixes = tuple(drop_prefixes)
    result = {
        key: value
        for key, value in base.items()
        if key not in dropped and not (prefixes and key.startswith(prefixes))
    }
    result.update(extra or {})
    return result


def search_path(env: Mapping[str, str]) -> list[Path]:
    """The directories of ``PATH`` in ``env``, in order, without blanks or duplicates."""
    seen: set[str] = set()
    result: list[Path] = []
    for entry in env.get("PATH", "").split(os.pathsep):
        if entry and entry not in seen:
            seen.add(entry)
            result.append(Path(entry))
    return result


def home(env: Mapping[str, str]) -> Path:
    """The home directory the step sees (``HOME``), falling back to the runner's."""
    value = env.get("HOME", "")
    return Path(value) if value else Path.home()
