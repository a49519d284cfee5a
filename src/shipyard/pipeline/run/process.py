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
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from shipyard.pipeline.run import spawn

TRACKING_VARIABLE = "SHIPYARD_TRACKING_ID"
"""Set in every process of a job; processes still carrying it at the end of the job are ended."""

CHUNK_SIZE = 64 * 1024
DRAIN_AFTER_EXIT = 0.2
"""Seconds to keep reading after the process exits, for output still in flight from its children.

A background child that keeps the pipe open (``server &``) would otherwise hold the step forever.
"""

KILL_GRACE = 2.5
"""Seconds between SIGINT, SIGTERM and SIGKILL when a process group is stopped."""


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
    kill_grace: float = KILL_GRACE,
) -> int:
    """Run ``argv`` to completion and return its exit status (``-N`` when killed by signal N).

    Raises ``TimeoutError`` when ``timeout`` passes (the group has been killed by then) and
    ``asyncio.CancelledError`` when cancelled (likewise). A missing program is status 127, as a
    shell reports it, with the reason given to ``on_line``.

    The process is watched with two file descriptors on the event loop, its output pipe and a
    pidfd, rather than asyncio's subprocess transports: a step is usually a process that lives a
    millisecond, and the transports' protocols, stream reader and futures cost more than that.
    """
    read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
    try:
        child = spawn.start(argv, cwd=cwd, env=env, output_fd=write_fd)
    except FileNotFoundError as error:
        os.close(read_fd)
        on_line(f"{argv[0]}: command not found ({error.strerror})")
        return 127
    except PermissionError as error:
        os.close(read_fd)
        on_line(f"{argv[0]}: permission denied ({error.strerror})")
        return 126
    finally:
        os.close(write_fd)
    watch = _Watch(asyncio.get_running_loop(), child, read_fd, on_line)
    try:
        async with asyncio.timeout(timeout):
            return await watch.result()
    except BaseException:
        await stop_group(child.pid, kill_grace)
        await watch.exited
        raise
    finally:
        watch.close()


class _Watch:
    """A child's output pipe and its exit, watched on the event loop."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        child: spawn.Child,
        read_fd: int,
        on_line: Callable[[str], None],
    ) -> None:
        self.loop = loop
        self.child = child
        self.read_fd = read_fd
        self.on_line = on_line
        self.splitter = LineSplitter()
        self.chunks = 0
        self.eof: asyncio.Future[None] = loop.create_future()
        self.exited: asyncio.Future[int] = loop.create_future()
        self.pidfd = -1
        loop.add_reader(read_fd, self._readable)
        try:
            self.pidfd = os.pidfd_open(child.pid)
        except (AttributeError, OSError):  # pragma: no cover - kernels before 5.3
            waiting = loop.run_in_executor(None, _wait, child.pid)
            waiting.add_done_callback(lambda done: self._set_exit(done.result()))
        else:
            loop.add_reader(self.pidfd, self._reap)

    def _readable(self) -> None:
        try:
            data = os.read(self.read_fd, CHUNK_SIZE)
        except BlockingIOError:  # pragma: no cover - spurious wake-up
            return
        except OSError:
            data = b""
        if not data:
            self.loop.remove_reader(self.read_fd)
            if not self.eof.done():
                self.eof.set_result(None)
            return
        self.chunks += 1
        for line in self.splitter.feed(data):
            self.on_line(line)

    def _reap(self) -> None:
        self.loop.remove_reader(self.pidfd)
        self._set_exit(_wait(self.child.pid))

    def _set_exit(self, code: int) -> None:
        self.child.ended(code)
        if not self.exited.done():
            self.exited.set_result(code)

    async def result(self) -> int:
        """The exit status, once the output has been read.

        After the exit, reading goes on while output keeps coming, until end of file or until
        the pipe stays quiet for DRAIN_AFTER_EXIT: a background child that keeps the pipe open
        (``server &``) would otherwise hold the step forever.
        """
        code = await self.exited
        while not self.eof.done():
            seen = self.chunks
            await asyncio.wait((self.eof,), timeout=DRAIN_AFTER_EXIT)
            if self.chunks == seen:
                break
        for line in self.splitter.flush():
            self.on_line(line)
        return code

    def close(self) -> None:
        if not self.eof.done():
            self.loop.remove_reader(self.read_fd)
            self.eof.cancel()
        os.close(self.read_fd)
        if self.pidfd >= 0:
            self.loop.remove_reader(self.pidfd)
            os.close(self.pidfd)
            self.pidfd = -1


def _wait(pid: int) -> int:
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:  # pragma: no cover - reaped by someone else
        return 255
    return os.waitstatus_to_exitcode(status)


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
