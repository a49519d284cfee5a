"""What every connection of one worker shares: settings, open connections, the clock.

Timeouts are not one timer per request: connections record a deadline and a sweep, a few times
a second, closes those past it. ``now`` is that sweep's clock (``time.perf_counter``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from shipyard.runtime.router import routes

if TYPE_CHECKING:
    import shipyard.runtime.router.accepting
    import shipyard.runtime.router.proxy
    import shipyard.runtime.router.upstream

clock = time.perf_counter


class Settings:
    """The table's limits and timeouts as plain attributes (read on the hot path)."""

    __slots__ = (
        "client_header",
        "client_idle",
        "connect",
        "max_body_bytes",
        "max_header_bytes",
        "max_headers",
        "max_request_line",
        "read",
        "trust_forwarded",
        "upstream_idle",
    )

    def __init__(self, table: routes.RouteTable | None = None) -> None:
        limits = table.limits if table is not None else routes.Limits()
        timeouts = table.timeouts if table is not None else routes.Timeouts()
        self.max_request_line = limits.max_request_line
        self.max_header_bytes = limits.max_header_bytes
        self.max_headers = limits.max_headers
        self.max_body_bytes = limits.max_body_bytes
        self.connect = timeouts.connect
        self.read = timeouts.read
        self.client_header = timeouts.client_header
        self.client_idle = timeouts.client_idle
        self.upstream_idle = timeouts.upstream_idle
        self.trust_forwarded = table.trust_forwarded if table is not None else False


class Context:
    """One worker's shared state."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.settings = Settings()
        self.now = clock()
        self.closing = False
        """Shutting down: answer what is in flight, then close every client connection."""
        self.clients: set[shipyard.runtime.router.proxy.ClientConnection] = set()
        self.upstreams: set[shipyard.runtime.router.upstream.UpstreamConnection] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.forwarded: dict[tuple[str, bytes | None], bytes] = {}
        """X-Forwarded-*/Forwarded lines by client address and Host (see ``proxy``)."""
        self.gate: shipyard.runtime.router.accepting.AcceptGate | None = None
        """Told each time a client connection opens or closes (workers sharing a queue)."""
        self.on_ejection: Any = None
        """Called with an :class:`~shipyard.runtime.router.upstream.Upstream` just ejected."""

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run a background task, keeping a reference until it ends."""
        task = self.loop.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
