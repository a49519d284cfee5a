"""Decides, request by request, how the app misbehaves when its fault knobs are set.

Only decisions live here: which request fails, how long one is delayed, which one is the last
before a crash. The caller does the sleeping and the exiting; this module does no I/O.

Without ``WEBAPP_SEED``, failures follow a counter pattern spread as evenly as possible: the n-th
application request fails when floor(n * rate) grows, so after n requests exactly
floor(n * rate) have failed (rate 0.5 fails the 2nd, 4th, 6th...). With a seed, each request
fails with probability ``rate``, drawn from a generator seeded with it: random-looking yet
repeatable.
"""

from __future__ import annotations

import math
import random
import threading

from webapp import settings


class FaultInjector:
    """The fault decisions of one process; safe to call from many request threads at once."""

    def __init__(self, faults: settings.Faults) -> None:
        self._faults = faults
        self._lock = threading.Lock()
        self._requests_seen = 0
        self._application_requests = 0
        self._error_draws = random.Random(faults.seed) if faults.seed is not None else None
        # Without a seed, jitter comes from the system's entropy: it needs no repeatability.
        self._jitter_draws = random.Random(faults.seed)

    def delay_seconds(self) -> float:
        """Latency to add to the current application request, in seconds."""
        extra_ms = 0
        if self._faults.slow_jitter_ms:
            with self._lock:
                extra_ms = self._jitter_draws.randint(0, self._faults.slow_jitter_ms)
        return (self._faults.slow_ms + extra_ms) / 1000

    def should_fail(self) -> bool:
        """Whether the current application request must be answered 500."""
        rate = self._faults.error_rate
        if rate == 0:
            return False
        with self._lock:
            if self._error_draws is not None:
                return self._error_draws.random() < rate
            self._application_requests += 1
            n = self._application_requests
            return math.floor(n * rate) > math.floor((n - 1) * rate)

    def is_last_request(self) -> bool:
        """Count one request; true when it is the one after which the process must crash."""
        if self._faults.crash_after is None:
            return False
        with self._lock:
            self._requests_seen += 1
            return self._requests_seen == self._faults.crash_after
