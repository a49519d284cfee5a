"""One instance's life: start it, probe it, restart it when it dies or stops being live.

An ``Instance`` is an asyncio task around one slot of a service (``web.2``): it starts the process
(or adopts one found still running after a server restart), runs the readiness checks (an
instance gets traffic only while ready) and the liveness checks (failing them restarts it),
restarts it after an exit with exponential backoff, and reports a crash loop when it keeps dying
before ever becoming ready. Every change of state is handed to ``on_change``; the instance never
touches the store or the router itself.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import enum
import logging
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from shipyard.core.frozen import frozen
from shipyard.runtime.supervisor import probes, processes
from shipyard.spec import project

_log = logging.getLogger(__name__)
_detached: list[subprocess.Popen[bytes]] = []
"""Processes left running on purpose: kept referenced, so they are never reported as leaked."""


def _settle_detached() -> None:
    """At exit, ask each detached process whether it has ended since (a later supervisor in the
    same process, as in tests, stops and reaps it): its ``Popen`` then knows, and is not
    reported as a process leaked while still running when the interpreter finalizes it."""
    for process in _detached:
        with contextlib.suppress(OSError):
            process.poll()


atexit.register(_settle_detached)


class State(enum.StrEnum):
    STARTING = "starting"
    """Running, not ready yet."""
    READY = "ready"
    UNREADY = "unready"
    """Was ready, now failing its readiness check: no traffic until it passes again."""
    BACKOFF = "backoff"
    """Exited; waiting before the next start."""
    CRASH_LOOP = "crash-loop"
    """Exited again and again before becoming ready; still retried, with the longest backoff."""
    STOPPING = "stopping"
    STOPPED = "stopped"
    FAILED = "failed"
    """Cannot be started at all (no shell, no release directory)."""


@frozen
class Policy:
    """How instances are restarted and logged."""

    backoff_initial: float = 0.5
    """Seconds before the first restart; doubled after each further exit in a row."""
    backoff_max: float = 30.0
    stable_after: float = 30.0
    """An instance that ran this long before exiting starts its backoff afresh."""
    crash_loop_after: int = 3
    """Exits in a row without becoming ready that make a crash loop."""
    log_max_bytes: int = processes.LOG_MAX_BYTES
    log_keep: int = processes.LOG_KEEP


@frozen
class Spec:
    """What one instance runs and where."""

    environment: str
    app: str
    release_id: str
    service: project.Service
    slot: int
    port: int
    cwd: Path
    env: Mapping[str, str] = field(repr=False)
    """The instance's environment variables: config and secrets, so never in a repr."""
    log_path: Path
    masked: tuple[str, ...] = field(default=(), repr=False)
    """Secret values the log writer hides from the instance's log."""

    @property
    def name(self) -> str:
        return f"{self.service.name}.{self.slot}"


@dataclass(slots=True)
class Status:
    """A snapshot of an instance, as the store records it."""

    state: State = State.STARTING
    pid: int | None = None
    pgid: int | None = None
    start_ticks: int | None = None
    started_at: float | None = None
    restarts: int = 0
    message: str = ""
    ever_ready: bool = False
    failure: str | None = field(default=None)
    """Set once the instance crash-loops or is not ready in time: why it failed to start."""


class Instance:
    """The task that keeps one instance running."""

    def __init__(
        self,
        spec: Spec,
        policy: Policy,
        on_change: Callable[[Instance], None],
        *,
        restarts: int = 0,
    ) -> None:
        self.spec = spec
        self.policy = policy
        self.status = Status(restarts=restarts)
        self._on_change = on_change
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._child: subprocess.Popen[bytes] | None = None
        self._writer: subprocess.Popen[bytes] | None = None

    # -- control --

    def start(self, adopted: processes.Spawned | None = None, *, was_ready: bool = False) -> None:
        """Run the instance's life in the background, adopting a process found running."""
        self._task = asyncio.get_running_loop().create_task(
            self._life(adopted, was_ready),
            name=f"instance {self.spec.environment}/{self.spec.name}",
        )

    async def stop(self) -> None:
        """SIGTERM its whole process group, SIGKILL after ``stop_grace``; wait until it is gone."""
        self._stopping.set()
        pgid = self.status.pgid
        if pgid is not None and processes.group_alive(pgid):
            self._set(State.STOPPING, "stopping")
            await processes.stop_group(pgid, self.spec.service.stop_grace)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._child is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._child.wait(timeout=1)
        await self._reap_writer()
        self._set(State.STOPPED, "stopped", pid=None)

    async def _reap_writer(self) -> None:
        # Forgotten only once reaped: a stop that cancels this wait reaps it again.
        writer = self._writer
        if writer is not None:
            await processes.reap_writer(writer)
            self._writer = None

    def detach(self) -> None:
        """Stop watching without touching the process (the server is going away abruptly)."""
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
        _detached.extend(p for p in (self._child, self._writer) if p is not None)

    @property
    def ready(self) -> bool:
        return self.status.state == State.READY

    # -- life --

    def _set(self, state: State, message: str, **changes: object) -> None:
        if state != self.status.state or message != self.status.message:
            _log.info("%s/%s %s: %s", self.spec.environment, self.spec.name, state, message)
        self.status.state = state
        self.status.message = message
        for key, value in changes.items():
            setattr(self.status, key, value)
        self._on_change(self)

    def _log(self, line: str) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime())
        with contextlib.suppress(OSError), self.spec.log_path.open("a", encoding="utf-8") as log:
            log.write(f"--- {stamp} {line}\n")

    async def _life(self, adopted: processes.Spawned | None, was_ready: bool) -> None:
        exits_in_row = 0
        current = adopted
        while not self._stopping.is_set():
            if current is None:
                current = self._spawn()
                if current is None:
                    return
            elif was_ready:
                self._set(State.READY, f"adopted pid {current.pid}", ever_ready=True)
            else:
                self._set(State.STARTING, f"adopted pid {current.pid}")
            reason = await self._watch(current)
            if self._stopping.is_set():
                return
            ran = time.time() - (self.status.started_at or time.time())
            processes.signal_group(current.pgid, 9)  # nothing of the old run lingers
            await processes.wait_group_gone(current.pgid, 5.0)
            await self._reap_writer()
            current, was_ready = None, False
            self._child = None
            ever_ready = self.status.ever_ready
            exits_in_row = 1 if ran >= self.policy.stable_after else exits_in_row + 1
            delay = min(
                self.policy.backoff_initial * 2 ** (exits_in_row - 1), self.policy.backoff_max
            )
            self.status.restarts += 1
            looping = not ever_ready and exits_in_row >= self.policy.crash_loop_after
            if looping and self.status.failure is None:
                self.status.failure = f"it keeps exiting before it is ready ({reason})"
            self._log(f"{reason}; restarting in {delay:g} s")
            state = State.CRASH_LOOP if looping else State.BACKOFF
            self._set(state, f"{reason}; restarting in {delay:g} s", pid=None)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._stopping.wait()

    def _spawn(self) -> processes.Spawned | None:
        spec = self.spec
        banner = (
            f"starting {spec.name} of {spec.app} release {spec.release_id} in {spec.environment} "
            f"on port {spec.port}"
            + (f" (restart {self.status.restarts})" * bool(self.status.restarts))
        )
        try:
            spawned, child, writer = processes.spawn(
                spec.service.run,
                cwd=spec.cwd,
                env=spec.env,
                log_path=spec.log_path,
                banner=banner,
                log_max_bytes=self.policy.log_max_bytes,
                log_keep=self.policy.log_keep,
                masked=spec.masked,
            )
        except (processes.SpawnError, OSError) as error:
            self.status.failure = f"it cannot be started: {error}"
            self._set(State.FAILED, f"cannot start: {error}", pid=None)
            return None
        self._child, self._writer = child, writer
        self.status.ever_ready = False
        self._set(
            State.STARTING,
            "started",
            pid=spawned.pid,
            pgid=spawned.pgid,
            start_ticks=spawned.start_ticks,
            started_at=time.time(),
        )
        return spawned

    async def _watch(self, current: processes.Spawned) -> str:
        """Wait until the process exits or fails a check; why it must restart."""
        if self.status.started_at is None or self._child is None:
            self.status.started_at = self.status.started_at or time.time()
        loop = asyncio.get_running_loop()
        exited = loop.create_task(processes.wait_exit(current.pid, self._child))
        readiness = loop.create_task(self._readiness())
        liveness = loop.create_task(self._liveness())
        stopping = loop.create_task(self._stopping.wait())
        tasks = {exited, readiness, liveness, stopping}
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
        if exited in done:
            status = exited.result()
            if status is None:
                return "exited"
            if status < 0:
                return f"killed by signal {-status}"
            return f"exited with status {status}"
        for task in (readiness, liveness):
            if task in done and not task.cancelled() and task.exception() is None:
                reason = task.result()
                self._log(f"{reason}; stopping it")
                await processes.stop_group(current.pgid, self.spec.service.stop_grace)
                if self._child is not None:  # gone with its group: reap it
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        self._child.wait(timeout=1)
                return reason
        return "stopped"

    async def _readiness(self) -> str:
        probe = self.spec.service.readiness
        if probe is None:
            self._set(State.READY, "running", ever_ready=True)
            await asyncio.Event().wait()
        assert probe is not None
        started = time.monotonic()
        successes = failures = 0
        while True:
            outcome = await probes.check(
                probe, port=self.spec.port, cwd=self.spec.cwd, env=self.spec.env
            )
            if outcome.passed:
                successes, failures = successes + 1, 0
                if successes >= probe.success_threshold and self.status.state != State.READY:
                    self._set(State.READY, "ready", ever_ready=True)
            else:
                successes, failures = 0, failures + 1
                if self.status.state == State.READY and failures >= probe.failure_threshold:
                    self._set(State.UNREADY, f"not ready: {outcome.reason}")
                elapsed = time.monotonic() - started
                if not self.status.ever_ready and elapsed >= probe.start_period:
                    reason = f"not ready {probe.start_period:g} s after start: {outcome.reason}"
                    if self.status.failure is None:
                        self.status.failure = f"it did not become ready: {outcome.reason}"
                    return reason
                if not self.status.ever_ready:
                    self.status.message = f"starting: {outcome.reason}"
            await asyncio.sleep(probe.interval)

    async def _liveness(self) -> str:
        probe = self.spec.service.liveness
        if probe is None:
            await asyncio.Event().wait()
        assert probe is not None
        while not self.status.ever_ready:
            await asyncio.sleep(min(probe.interval, 0.1))
        live_since = time.monotonic()
        failures = 0
        while True:
            await asyncio.sleep(probe.interval)
            outcome = await probes.check(
                probe, port=self.spec.port, cwd=self.spec.cwd, env=self.spec.env
            )
            if outcome.passed:
                failures = 0
                continue
            if time.monotonic() - live_since < probe.start_period:
                continue
            failures += 1
            if failures >= probe.failure_threshold:
                return f"failed its liveness check {failures} times: {outcome.reason}"
