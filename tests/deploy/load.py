"""A load generator that counts every request: keep-alive clients, fresh connections per request
and slow requests, against loopback only, bounded in count and time. Used by the deploy tests and
benchmarks to prove that no request fails while releases change."""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

CATCH_UP = 3.0
"""Seconds a worker may fall behind its schedule (behind a slow request) and still catch up, so
the rate holds on average."""


@dataclass
class Tally:
    sent: int = 0
    ok: int = 0
    failures: list[str] = field(default_factory=list)
    versions: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    """Seconds per request (fast and slow ones alike), in completion order."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, version: str | None, failure: str | None, seconds: float = 0.0) -> None:
        with self.lock:
            self.sent += 1
            self.latencies.append(seconds)
            if failure is None:
                self.ok += 1
                self.versions[version or ""] += 1
            elif len(self.failures) < 50:
                self.failures.append(failure)
            else:
                self.failures.append("...")


class Load:
    """``rate`` requests/s spread over ``workers`` threads until ``stop()`` (or ``max_seconds``).

    Worker 0 opens a new connection per request; the others keep theirs alive. Every
    ``slow_every``-th request of a worker is ``/slow?ms=slow_ms``.
    """

    def __init__(
        self,
        port: int,
        *,
        rate: float = 200.0,
        workers: int = 8,
        slow_every: int = 40,
        slow_ms: int = 1500,
        max_seconds: float = 600.0,
        max_requests: int = 1_000_000,
    ) -> None:
        self.port = port
        self.rate = rate
        self.workers = workers
        self.slow_every = slow_every
        self.slow_ms = slow_ms
        self.deadline = time.monotonic() + max_seconds
        self.max_requests = max_requests
        self.tally = Tally()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._worker, args=(index,), daemon=True)
            for index in range(workers)
        ]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> Tally:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        return self.tally

    def _running(self) -> bool:
        return (
            not self._stop.is_set()
            and time.monotonic() < self.deadline
            and self.tally.sent < self.max_requests
        )

    def _worker(self, index: int) -> None:
        interval = self.workers / self.rate
        fresh = index == 0
        conn: http.client.HTTPConnection | None = None
        count = 0
        next_at = time.monotonic()
        while self._running():
            count += 1
            path = "/version"
            if self.slow_every and count % self.slow_every == index % self.slow_every:
                path = f"/slow?ms={self.slow_ms}"
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
            began = time.monotonic()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                body = response.read()
                version = response.getheader("X-Webapp-Version")
                took = time.monotonic() - began
                if response.status != 200:
                    self.tally.record(None, f"{path}: {response.status} {body[:200]!r}", took)
                else:
                    self.tally.record(version, None, took)
                if fresh or response.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as error:
                self.tally.record(None, f"{path}: {error!r}", time.monotonic() - began)
                if conn is not None:
                    conn.close()
                conn = None
            next_at += interval
            delay = next_at - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)
            elif delay < -CATCH_UP:  # too far behind (a slow request): give up the backlog
                next_at = time.monotonic()
        if conn is not None:
            conn.close()
