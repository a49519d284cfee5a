"""Supervised processes: each in its own process group, output read as lines, killed as a tree.

A step's process (and everything it starts) must never outlive its job. Each process starts a new
session, so its group can be signalled as a whole; each also carries the job's tracking id in its
environment, so children that left the group (``setsid``, daemons) are found in ``/proc`` and
ended when the job ends, as GitHub's runner does.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

TRACKING_VARIABLE = "SHIPYARD_TRACKING_ID"
"""Set in every process of a job; processes still carrying it at the end of the job are ended."""

CHUNK_SIZE = 64 * 1024
DRAIN_AFTER_EXIT = 0.2
"""Seconds to keep reading after the process exits, for output still in flight from its children.

A background child that keeps the pipe open (``server &``) would otherwise hold the step forever.
"""

KILL_GRACE = 2.5
"""Seconds between SIGINT, SIGTERM and SIGKILL when a process group is stopped."""

_watcher_installed = False


def install_child_watcher() -> None:
    """Use pidfd to learn of child exits on Python 3.11 (3.12 does so by default).

    The 3.11 default starts a thread per child, which costs about a third of a trivial step.
    """
    global _watcher_installed  # noqa: PLW0603 - one process-wide setting, set once
    if _watcher_installed or sys.version_info >= (3, 12) or not hasattr(os, "pidfd_open"):
        return
    _watcher_installed = True
    try:
        watcher = asyncio.PidfdChildWatcher()
        asyncio.set_child_watcher(watcher)
    except (OSError, AttributeError, RuntimeError):  # pragma: no cover - old kernels
        return


class LineSplitter:
    """Turns chunks of bytes into complete lines; a partial last line is kept until more comes."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, chunk: bytes) -> list[str]:
        data = self._pending + chunk
        lines = data.split(b"\n")
        self._pending = lines.pop()
        return [_decode(line) for line in lines]

    def flush(self) -> list[str]:
        if not self._pending:
            return []
        rest, self._pending = self._pending, b""
        return [_decode(rest)]


def _decode(line: bytes) -> str:
    text = line.decode("utf-8", errors="replace")
    return text[:-1] if text.endswith("\r") else text


async def run(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    on_line: Callable[[str], None],
    timeout: float | None = None,
    stdin: int | None = asyncio.subprocess.DEVNULL,
    kill_grace: float = KILL_GRACE,
) -> int:
    """Run ``argv`` to completion and return its exit status.

    Raises ``TimeoutError`` when ``timeout`` passes (the group has been killed by then) and
    ``asyncio.CancelledError`` when cancelled (likewise). A missing program is status 127, as a
    shell reports it, with the reason given to ``on_line``.
    """
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env=_encoded(env),
            stdin=stdin,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    except FileNotFoundError as error:
        on_line(f"{argv[0]}: command not found ({error.strerror})")
        return 127
    except PermissionError as error:
        on_line(f"{argv[0]}: permission denied ({error.strerror})")
        return 126
    try:
        async with asyncio.timeout(timeout):
            return await _pump(process, on_line)
    except BaseException:
        await stop_group(process.pid, kill_grace)
        with contextlib.suppress(ProcessLookupError):
            await process.wait()
        raise


_ENCODED: dict[str, bytes] = {}


def _encoded(env: Mapping[str, str]) -> dict[bytes, bytes]:
    """The environment as bytes, as the kernel takes it; each string is encoded once per
    process (steps share almost all their variables), and Popen skips re-encoding them."""
    cache = _ENCODED
    if len(cache) > 100_000:
        cache.clear()
    encoded = {}
    for key, value in env.items():
        name = cache.get(key)
        if name is None:
            name = cache[key] = key.encode("utf-8", "surrogateescape")
        text = cache.get(value)
        if text is None:
            text = cache[value] = value.encode("utf-8", "surrogateescape")
        encoded[name] = text
    return encoded


async def _pump(process: asyncio.subprocess.Process, on_line: Callable[[str], None]) -> int:
    assert process.stdout is not None
    stream = process.stdout
    splitter = LineSplitter()
    waiter = asyncio.ensure_future(process.wait())
    try:
        while True:
            reader = asyncio.ensure_future(stream.read(CHUNK_SIZE))
            done, _ = await asyncio.wait({reader, waiter}, return_when=asyncio.FIRST_COMPLETED)
            if reader not in done:
                # The process exited; give its output a moment to arrive, then stop reading.
                try:
                    chunk = await asyncio.wait_for(reader, DRAIN_AFTER_EXIT)
                except TimeoutError:
                    break
            else:
                chunk = reader.result()
            if not chunk:
                break
            for line in splitter.feed(chunk):
                on_line(line)
            if waiter.done():
                await _drain_ready(stream, splitter, on_line)
                break
        for line in splitter.flush():
            on_line(line)
        return await waiter
    finally:
        if not waiter.done():
            waiter.cancel()


async def _drain_ready(
    stream: asyncio.StreamReader, splitter: LineSplitter, on_line: Callable[[str], None]
) -> None:
    """Read what is left after exit until EOF, or until the pipe stays quiet briefly."""
    while True:
        try:
            chunk = await asyncio.wait_for(stream.read(CHUNK_SIZE), DRAIN_AFTER_EXIT)
        except TimeoutError:
            return
        if not chunk:
            return
        for line in splitter.feed(chunk):
            on_line(line)


async def stop_group(pgid: int, grace: float = KILL_GRACE) -> None:
    """SIGINT, then SIGTERM, then SIGKILL to a process group, until it is gone."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        if not _signal_group(pgid, sig):
            return
        if await _wait_group_gone(pgid, grace):
            return
    _signal_group(pgid, signal.SIGKILL)
    await _wait_group_gone(pgid, grace)


def _signal_group(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - a reused id owned by someone else
        return False
    return True


async def _wait_group_gone(pgid: int, timeout: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    delay = 0.005
    while loop.time() < deadline:
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return True
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.1)
    return False


def running_pids() -> frozenset[int]:
    """Every process id on the machine now (Linux ``/proc``)."""
    try:
        return frozenset(int(entry) for entry in os.listdir("/proc") if entry.isdigit())
    except OSError:  # pragma: no cover - not Linux
        return frozenset()


def tracked_processes(tracking_id: str, older: frozenset[int] = frozenset()) -> list[int]:
    """Process ids whose environment carries ``tracking_id`` (Linux ``/proc``).

    ``older`` are processes that existed before the run began: they cannot carry one of its
    tracking ids, so their environment is not read (a 500-job run would read thousands).
    """
    needle = f"{TRACKING_VARIABLE}={tracking_id}".encode()
    found = []
    own = os.getpid()
    try:
        entries = os.listdir("/proc")
    except OSError:  # pragma: no cover - not Linux
        return []
    for entry in entries:
        if not entry.isdigit() or int(entry) == own or int(entry) in older:
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                environ = handle.read()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            found.append(int(entry))
    return found


async def end_tracked(
    tracking_id: str, grace: float = KILL_GRACE, older: frozenset[int] = frozenset()
) -> int:
    """End every process still carrying ``tracking_id``; returns how many were found."""
    pids = tracked_processes(tracking_id, older)
    found = len(pids)
    if not pids:
        return 0
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while loop.time() < deadline:
            pids = [pid for pid in pids if _alive(pid)]
            if not pids:
                return found
            await asyncio.sleep(0.02)
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            state = handle.read().rsplit(b")", 1)[-1].split()[0]
    except OSError:
        return False
    return state != b"Z"
