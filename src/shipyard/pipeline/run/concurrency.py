"""Job concurrency groups within one run, with GitHub's rules.

At most one job of a group runs and at most one waits: a newer waiting job cancels the older
waiting one; with ``cancel-in-progress`` the newcomer cancels the running job instead of waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import field
from typing import Protocol, TypeAlias

from shipyard.core.frozen import record

Request: TypeAlias = tuple[str, bool] | None
"""(group, cancel-in-progress), or None for a job without a concurrency group."""


class Cancellable(Protocol):
    cancelled: bool

    def cancel(self) -> None: ...


@record
class _Group:
    running: Cancellable | None = None
    pending: tuple[Cancellable, asyncio.Future[object]] | None = None
    released: asyncio.Event = field(default_factory=asyncio.Event)


class Groups:
    """All concurrency groups of a run."""

    def __init__(self) -> None:
        self._groups: dict[str, _Group] = {}

    @contextlib.asynccontextmanager
    async def hold(self, request: Request, job: Cancellable) -> AsyncIterator[None]:
        if request is None:
            yield
            return
        name, cancel_in_progress = request
        group = self._groups.setdefault(name, _Group())
        if group.running is not None:
            if cancel_in_progress:
                group.running.cancel()
            if group.pending is not None:
                older, older_waiter = group.pending
                older.cancel()
                if not older_waiter.done():
                    older_waiter.set_result(None)
            waiter: asyncio.Future[object] = asyncio.get_running_loop().create_future()
            group.pending = (job, waiter)
            while group.running is not None and not job.cancelled:
                group.released.clear()
                released: asyncio.Future[object] = asyncio.ensure_future(group.released.wait())
                await asyncio.wait({released, waiter}, return_when=asyncio.FIRST_COMPLETED)
                released.cancel()
            if group.pending is not None and group.pending[0] is job:
                group.pending = None
        group.running = job
        try:
            yield
        finally:
            group.running = None
            group.released.set()
