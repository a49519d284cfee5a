"""Evening out client connections between workers that share one accept queue.

With one accept queue per port, the worker that wakes first takes whatever is queued; when a
client opens many long-lived connections at once, most of them can land on one worker and stay
there. So the workers publish how many client connections each holds, in a small table of
shared memory (one signed 64-bit slot per worker, created by the parent and inherited by every
worker), and a worker that holds more than ``slack`` over the fewest any other live worker holds
stops accepting until it is back within ``slack``. The worker holding the fewest never stops, so
some worker always accepts; a connection waits in the kernel's queue for a worker that does.

A slot holds :data:`ABSENT` while its worker is not serving (not started yet, or dead: the parent
writes it when a worker exits), so the others ignore it. The table is read and written without
locks: a count read a moment late only moves a pause or a resume by one check, and a worker
that stopped accepting checks again every :data:`RECHECK_SECONDS`.

The rule itself (:func:`over_share`) is pure; :class:`ConnectionTable` is the shared memory.
"""

from __future__ import annotations

import asyncio
import mmap
import os
from collections.abc import Callable

SLOT_BYTES = 8
ABSENT = 2**62
"""A slot's value while its worker is not serving: larger than any count, so never the fewest."""
SLACK = 4
"""How many connections a worker may hold over the fewest another live worker holds."""
RECHECK_SECONDS = 0.005
"""How often a worker that stopped accepting looks at the table again."""


def over_share(mine: int, fewest_other: int, slack: int = SLACK) -> bool:
    """True when a worker holding ``mine`` connections should stop accepting, given the fewest
    another live worker holds (:data:`ABSENT` when no other worker serves: never over)."""
    return fewest_other != ABSENT and mine > fewest_other + slack


class ConnectionTable:
    """Each worker's count of open client connections, in memory the router's processes share."""

    def __init__(self, fd: int, workers: int) -> None:
        self.fd = fd
        """The memory's file descriptor (the parent passes it to every worker)."""
        self.workers = workers
        self._map = mmap.mmap(fd, workers * SLOT_BYTES)
        self.slots = memoryview(self._map).cast("q")

    @classmethod
    def create(cls, workers: int) -> ConnectionTable:
        """New shared memory with every slot :data:`ABSENT` (the parent's side)."""
        fd = os.memfd_create("shipyard-router-connections", 0)
        os.ftruncate(fd, workers * SLOT_BYTES)
        table = cls(fd, workers)
        for index in range(workers):
            table.slots[index] = ABSENT
        return table

    @classmethod
    def open(cls, fd: int) -> ConnectionTable:
        """The table the parent created, from its inherited descriptor (a worker's side)."""
        return cls(fd, os.fstat(fd).st_size // SLOT_BYTES)

    def fewest_other(self, index: int) -> int:
        """The fewest connections any live worker but ``index`` holds (:data:`ABSENT`: none)."""
        slots = self.slots
        fewest = ABSENT
        for other in range(self.workers):
            if other != index and slots[other] < fewest:
                fewest = slots[other]
        return fewest

    def close(self) -> None:
        self.slots.release()
        self._map.close()
        os.close(self.fd)


class AcceptGate:
    """One worker's side of the table: publishes its count, stops and restarts accepting.

    ``stop`` and ``start`` close and reopen the worker's servers on the shared listening
    sockets; the sockets themselves stay open (the parent and the other workers hold them), so
    no queued connection is lost while this worker does not accept.
    """

    def __init__(
        self,
        table: ConnectionTable,
        index: int,
        loop: asyncio.AbstractEventLoop,
        *,
        stop: Callable[[], None],
        start: Callable[[], None],
        slack: int = SLACK,
    ) -> None:
        self.table = table
        self.index = index
        self.loop = loop
        self.stop = stop
        self.start = start
        self.slack = slack
        self.accepting = True
        self.count = 0
        self.stopped = False
        """The worker is shutting down: its slot is ABSENT and it never accepts again."""
        self._timer: asyncio.TimerHandle | None = None

    def opened(self, count: int) -> None:
        """A client connection opened; ``count`` are open now."""
        self.count = count
        if self.stopped:  # shutting down: it is closed at once, and the slot stays ABSENT
            return
        self.table.slots[self.index] = count
        if self.accepting and over_share(count, self.table.fewest_other(self.index), self.slack):
            self.accepting = False
            self.stop()
            self._timer = self.loop.call_later(RECHECK_SECONDS, self.recheck)

    def closed(self, count: int) -> None:
        """A client connection closed; ``count`` are open now."""
        self.count = count
        if not self.stopped:
            self.table.slots[self.index] = count
        if not self.accepting:
            self.recheck()

    def recheck(self) -> None:
        """Accept again once back within the slack of the fewest (else look again soon)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.accepting or self.stopped:
            return
        if over_share(self.count, self.table.fewest_other(self.index), self.slack):
            self._timer = self.loop.call_later(RECHECK_SECONDS, self.recheck)
            return
        self.accepting = True
        self.start()

    def publish(self, count: int) -> None:
        """Write the count as it is now (the worker just started serving a table)."""
        self.count = count
        if not self.stopped:
            self.table.slots[self.index] = count

    def withdraw(self) -> None:
        """The worker stops serving: mark its slot ABSENT, so the others never wait for it."""
        self.stopped = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.table.slots[self.index] = ABSENT
