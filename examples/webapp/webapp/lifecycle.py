"""The life of the process as its probes report it: starting, serving, draining.

It also counts the requests in flight, which the drain waits on after SIGTERM and /metrics shows.
No I/O here: the server and the probes read and change this state.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Lifecycle:
    """Health, readiness and requests in flight of one process; safe across threads."""

    def __init__(
        self,
        *,
        startup_delay_seconds: float = 0.0,
        unhealthy: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._ready_at = clock() + startup_delay_seconds
        self._unhealthy = unhealthy
        self._draining = False
        self._in_flight = 0
        self._idle = threading.Condition()

    def health(self) -> str:
        """``ok``, ``starting`` (startup delay not over) or ``unhealthy`` (WEBAPP_UNHEALTHY)."""
        if self._unhealthy:
            return "unhealthy"
        if self._clock() < self._ready_at:
            return "starting"
        return "ok"

    def readiness(self) -> str:
        """``ready``, or why not: ``starting``, ``unhealthy`` or ``draining``."""
        health = self.health()
        if health != "ok":
            return health
        return "draining" if self._draining else "ready"

    @property
    def draining(self) -> bool:
        """True once the process was told to stop: every response then closes its connection."""
        return self._draining

    def start_draining(self) -> None:
        """Mark the process as stopping; readiness turns to ``draining``."""
        self._draining = True

    @property
    def in_flight(self) -> int:
        """Requests being served right now."""
        return self._in_flight

    def request_started(self) -> None:
        """Count a request in."""
        with self._idle:
            self._in_flight += 1

    def request_finished(self) -> None:
        """Count a request out, waking a drain that waits for none to be left."""
        with self._idle:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no request is in flight, at most ``timeout`` seconds; true if none is."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout=timeout)
