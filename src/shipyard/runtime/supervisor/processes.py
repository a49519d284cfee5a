"""Instance processes: started in their own session beside a log writer, found again by pid and
start time, watched through pidfds, and stopped as a whole process group.

An instance is the service's ``run`` command in a new session and process group of its own, and
beside it a log writer (``logshim``, in another session) that reads the command's output from a
pipe and ends when the command's whole group has closed it. Neither depends on the server, so
both live on when the server is killed; a restarted server
recognises the command by its pid and its start time in ``/proc`` (a pid alone may have been
reused) and adopts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from shipyard.core.frozen import frozen

LOG_MAX_BYTES = 10 * 1024 * 1024
LOG_KEEP = 3


@frozen
class Spawned:
    """A running instance's process: its pid, its group and its start time (clock ticks)."""

    pid: int
    pgid: int
    start_ticks: int


class SpawnError(Exception):
    """The command could not be started at all (no shell, no working directory)."""


def start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (``/proc/<pid>/stat`` field 22)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    fields = data.rsplit(b")", 1)[-1].split()
    # After the command name: field 3 (state) is fields[0], so field 22 is fields[19].
    if len(fields) < 20 or fields[0] == b"Z":
        return None
    return int(fields[19])


def is_running(pid: int, ticks: int | None) -> bool:
    """Whether ``pid`` is still the process that started at ``ticks`` (and not a zombie)."""
    return ticks is not None and start_ticks(pid) == ticks


def spawn(
    command: str,
    *,
    cwd: Path,
    env: Mapping[str, str],
    log_path: Path,
    banner: str,
    log_max_bytes: int = LOG_MAX_BYTES,
    log_keep: int = LOG_KEEP,
    masked: Sequence[str] = (),
) -> tuple[Spawned, subprocess.Popen[bytes], subprocess.Popen[bytes]]:
    """Start the log writer, then ``command`` (via ``/bin/sh -c``) writing into it.

    Returns the instance and the two ``Popen`` objects (the command's, the writer's).
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    reader, writer = os.pipe()
    try:
        shim = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "shipyard.runtime.supervisor.logshim",
                str(log_path),
                str(log_max_bytes),
                str(log_keep),
                banner,
            ],
            stdin=reader,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **_mask_variable(masked)},
        )
        try:
            app = subprocess.Popen(
                ["/bin/sh", "-c", command],
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=writer,
                stderr=writer,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as error:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(shim.pid, signal.SIGKILL)
            shim.wait()
            raise SpawnError(error.strerror or str(error)) from error
    finally:
        os.close(reader)
        os.close(writer)
    ticks = start_ticks(app.pid)
    return Spawned(app.pid, app.pid, ticks if ticks is not None else 0), app, shim


async def reap_writer(shim: subprocess.Popen[bytes], timeout: float = 2.0) -> None:
    """Wait for a log writer to finish its last lines (it ends once the instance's output
    closes); kill it if the instance left something holding its output open."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while shim.poll() is None:
        if loop.time() >= deadline:
            with contextlib.suppress(ProcessLookupError):
                shim.kill()
            shim.wait()
            return
        await asyncio.sleep(0.01)


async def wait_exit(pid: int, child: subprocess.Popen[bytes] | None = None) -> int | None:
    """Wait until ``pid`` exits; its exit status when it is our child, else None."""
    try:
        descriptor = os.pidfd_open(pid)
    except ProcessLookupError:
        return child.wait() if child is not None else None
    loop = asyncio.get_running_loop()
    exited: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        if not exited.done():
            exited.set_result(None)

    loop.add_reader(descriptor, readable)
    try:
        await exited
    finally:
        loop.remove_reader(descriptor)
        os.close(descriptor)
    if child is not None:
        return child.wait()
    return None


def group_alive(pgid: int) -> bool:
    """Whether any process of the group still runs (zombies awaiting their reaper do not count)."""
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return not _only_zombies(pgid)


def signal_group(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


async def stop_group(pgid: int, grace: float) -> None:
    """SIGTERM the whole group, SIGKILL after ``grace`` seconds, until it is gone."""
    if not signal_group(pgid, signal.SIGTERM):
        return
    if await wait_group_gone(pgid, grace):
        return
    signal_group(pgid, signal.SIGKILL)
    await wait_group_gone(pgid, 5.0)


async def wait_group_gone(pgid: int, timeout: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    delay = 0.005
    while True:
        if not group_alive(pgid):
            return True
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.05)


def _only_zombies(pgid: int) -> bool:
    """Whether every process left in the group is a zombie waiting to be reaped."""
    try:
        entries = os.listdir("/proc")
    except OSError:  # pragma: no cover - not Linux
        return False
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[-1].split()
        except OSError:
            continue
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] != b"Z":
            return False
    return True


def _mask_variable(masked: Sequence[str]) -> dict[str, str]:
    """The secrets the log writer hides, passed in its environment (never on its command line)."""
    if not masked:
        return {}
    import json

    from shipyard.runtime.supervisor import logshim

    return {logshim.MASK_VARIABLE: json.dumps(list(masked))}
