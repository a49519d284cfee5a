"""Where a step's rendered script is written: a private directory in memory when there is one.

A ``run:`` script is rendered (its ``${{ }}`` evaluated, secrets included) into a file that the
shell reads, and deleted when the step ends. Creating and deleting a file on a journaling file
system costs the runner about a quarter of a millisecond per step, a tenth of a trivial step's
whole cost; on a memory file system (``/dev/shm`` on Linux) it costs a sixth of that, and the
script never reaches a disk. GitHub writes the file under ``RUNNER_TEMP``; Shipyard does so only
where no memory file system is writable.

The directory is one per runner process, mode 0700, named ``shipyard-<pid>-<random>``, and
removed when the process exits; one left by a runner that was killed is removed by a runner that
starts a day later. A job's step files (``GITHUB_OUTPUT`` ...) are in a directory of the job's
inside it (:func:`job_directory`), removed when the job ends.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import time
from pathlib import Path

MEMORY_BASES = (Path("/dev/shm"),)
PREFIX = "shipyard-"
STALE_AFTER = 24 * 3600.0
"""Seconds unchanged before a dead runner's directory is removed (its pid may be another
namespace's, whose runner is still using it)."""

_directory: Path | None = None
_unavailable = False


def directory(fallback: Path) -> Path:
    """This process's script directory, made on first use; ``fallback`` when memory has none."""
    global _directory, _unavailable  # noqa: PLW0603 - one directory per process, made once
    if _directory is not None:
        return _directory
    if not _unavailable:
        for base in MEMORY_BASES:
            made = _make(base)
            if made is not None:
                _directory = made
                atexit.register(_remove, made)
                return made
        _unavailable = True
    return fallback


def job_directory(name: str, fallback: Path) -> Path:
    """A new private directory ``name`` inside this process's directory; ``fallback`` when
    memory has none (or it went away). The caller removes it, unless it is ``fallback``."""
    memory = directory(fallback)
    if memory == fallback:
        return fallback
    try:
        os.mkdir(memory / name, 0o700)
    except OSError:
        return fallback
    return memory / name


def _make(base: Path) -> Path | None:
    if not os.access(base, os.W_OK | os.X_OK):
        return None
    sweep(base)
    path = base / f"{PREFIX}{os.getpid()}-{os.urandom(6).hex()}"
    try:
        os.mkdir(path, 0o700)
    except OSError:
        return None
    return path


def sweep(base: Path) -> None:
    """Remove the script directories of runners that are no longer running."""
    try:
        entries = list(os.scandir(base))
    except OSError:
        return
    uid, now = os.getuid(), time.time()
    for entry in entries:
        if not entry.name.startswith(PREFIX):
            continue
        pid_text = entry.name[len(PREFIX) :].partition("-")[0]
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not pid_text.isdigit() or info.st_uid != uid or info.st_mtime > now - STALE_AFTER:
            continue
        if not _alive(int(pid_text)):
            shutil.rmtree(entry.path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        shutil.rmtree(path)
