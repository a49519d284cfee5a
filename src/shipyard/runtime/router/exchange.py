"""One request and its response: the exchange between a client connection and an instance.

An :class:`Exchange` takes a request to the instance chosen for it (a pooled connection, or a new
one; another instance when a connection cannot be opened), carries its body there with
backpressure, and brings the response back, or answers itself when it must: the pages for 502,
503, 504 and the client errors, which say what happened and where.
"""

from __future__ import annotations

import bisect
import os
from typing import TYPE_CHECKING

from shipyard.runtime.router import balancer, context, heads, protocol, signals, upstream

if TYPE_CHECKING:
    from shipyard.runtime.router import proxy

_clock = context.clock
_bucket_of = bisect.bisect_left
_BUCKETS = protocol.LATENCY_BUCKETS

MAX_ATTEMPTS = 3
"""Instances tried for one request when connections cannot be opened."""
PENDING_LIMIT = 256 * 1024
"""Request body bytes held while a connection to an instance opens; then the client waits."""
_REPLAYABLE = frozenset((b"GET", b"HEAD", b"OPTIONS", b"TRACE", b"PUT", b"DELETE"))


class Exchange:
    """One request and its response."""

    __slots__ = (
        "body_bytes",
        "chunked",
        "client",
        "close_after",
        "connection",
        "content_length",
        "counters",
        "endpoint",
        "finished",
        "head",
        "header_bytes",
        "host",
        "http10",
        "incoming",
        "is_head",
        "local",
        "method",
        "parts",
        "pending",
        "pending_bytes",
        "replayed",
        "request_done",
        "response_done_",
        "response_started",
        "route",
        "started",
        "status",
        "tried",
        "upgrade",
        "upstream",
        "url",
    )

    method: bytes
    is_head: bool
    http10: bool
    started: float
    route: balancer.RouteRuntime
    endpoint: balancer.Endpoint
    counters: signals.Counters
    head: bytes
    pending_bytes: int
    tried: list[tuple[balancer.Endpoint, str]]
    """Instances that could not be reached, and why (set on the first failure)."""
    replayed: bool
    """Sent again after a pooled connection closed under it (set when it happens)."""

    def __init__(self, client: proxy.ClientConnection, url: bytes) -> None:
        self.client = client
        self.url = url
        self.parts: list[bytes] = []
        self.header_bytes = 0
        self.host: bytes | None = None
        self.connection: tuple[bytes, ...] | None = None
        """The fields the Connection header names (None: no Connection header)."""
        self.upgrade: bytes | None = None
        self.incoming: list[bytes] | None = None
        self.chunked = False
        self.content_length = 0
        self.body_bytes = 0
        self.pending: list[bytes] | None = None
        self.upstream: upstream.UpstreamConnection | None = None
        self.local: bytes | None = None
        self.request_done = False
        self.response_started = False
        self.response_done_ = False
        self.finished = False
        self.close_after = False
        self.status = 0

    # Starting ------------------------------------------------------------------------------

    def start(self) -> None:
        """Called when this exchange's turn on the client connection comes."""
        if self.local is not None:
            self._answer_local()
            return
        conn = self.endpoint.upstream.take()
        if conn is not None:
            self._send_on(conn, True)
        else:
            self.client.context.spawn(self._open(self.endpoint))

    async def _open(self, endpoint: balancer.Endpoint) -> None:
        target = endpoint.upstream
        try:
            conn = await target.open(self.client.context.settings.connect)
        except (OSError, TimeoutError) as exc:
            self._connect_failed(endpoint, exc)
            return
        if self.finished or self.client.gone:
            target.give_back(conn)
            return
        self._send_on(conn, False)

    def _send_on(self, conn: upstream.UpstreamConnection, reused: bool) -> None:
        self.upstream = conn
        pending = self.pending
        if pending:
            self.pending = None
            data = b"".join((self.head, *pending))
            self.pending_bytes = 0
            self.client.hold_body(False)
        else:
            data = self.head
        conn.send(self, data, reused)

    def _connect_failed(self, endpoint: balancer.Endpoint, exc: BaseException) -> None:
        reason = _describe(exc, self.client.context.settings.connect)
        counters = endpoint.counters
        counters.connect_errors += 1
        counters.ejections += 1
        endpoint.upstream.eject()
        ctx = self.client.context
        if ctx.on_ejection is not None:
            ctx.on_ejection(endpoint.upstream)
        tried = getattr(self, "tried", None)
        if tried is None:
            tried = self.tried = []
        tried.append((endpoint, reason))
        if self.finished or self.client.gone:
            self._count_done()
            return
        other = None
        if len(tried) < MAX_ATTEMPTS:
            other = self.route.pick_other([e for e, _ in tried])
        if other is None:
            attempts = "; ".join(
                f"{e.upstream.address} (release {e.release_id}, instance {e.instance_id}): {why}"
                for e, why in tried
            )
            self._answer(502, f"Route {self.route.label}: could not connect to {attempts}.")
            return
        # The failed instance keeps its request count; the next one gets the request.
        counters.in_flight -= 1
        self.endpoint = other
        self.counters = other.counters
        other.counters.requests += 1
        other.counters.in_flight += 1
        self.start()

    # Request body --------------------------------------------------------------------------

    def body(self, piece: bytes) -> None:
        """Send (or hold) a piece of request body, already framed for the instance."""
        conn = self.upstream
        if conn is not None:
            conn.transport.write(piece)
            return
        pending = self.pending
        if pending is None:
            pending = self.pending = []
            self.pending_bytes = 0
        pending.append(piece)
        self.pending_bytes += len(piece)
        if self.pending_bytes > PENDING_LIMIT:
            self.client.hold_body(True)

    # Response, driven by the upstream connection -----------------------------------------

    def interim(self, head: bytes) -> None:
        """A 1xx head (100 Continue, 103 Early Hints): passed on to HTTP/1.1 clients."""
        if not self.http10:
            self.relay(head)

    def relay(self, data: bytes) -> None:
        """Bytes for the client."""
        self.counters.bytes_out += len(data)
        self.client.transport.write(data)

    def switched(self, conn: upstream.UpstreamConnection, head: bytes, rest: bytes) -> None:
        """The instance answered 101: from now on bytes pass both ways untouched."""
        client = self.client
        if self.upgrade is None:
            self.upstream_invalid(conn, "it switched protocols though the client did not ask to")
            return
        self.relay(head + rest)
        self._count_done()
        client.start_tunnel(self, conn)

    def response_done(self) -> None:
        """The instance's response is complete (its connection is pooled or closed already)."""
        self.response_done_ = True
        if not self.finished:
            self.finished = True
            counters = self.counters  # Counters.finish(), inlined: once per request
            counters.in_flight -= 1
            counters.responses[self.status // 100] += 1
            seconds = _clock() - self.started
            counters.latency[_bucket_of(_BUCKETS, seconds)] += 1
            counters.latency_sum += seconds
        if not self.request_done:
            # The instance answered before reading the whole body: do not read it further.
            self.close_after = True
        self.client.exchange_done(self)

    def upstream_lost(self, conn: upstream.UpstreamConnection, exc: BaseException | None) -> None:
        """The connection closed before the response was complete."""
        self.upstream = None
        if (
            conn.reused
            and not conn.answered
            and not getattr(self, "replayed", False)
            and self.method in _REPLAYABLE
            and not self.chunked
            and self.content_length == 0
        ):
            # An idle pooled connection the instance had just closed: try once more, afresh.
            self.replayed = True
            self.client.context.spawn(self._open(self.endpoint))
            return
        if conn.answered:
            why = "closed the connection in the middle of its response"
        else:
            why = "closed the connection without answering"
        if exc is not None:
            why += f" ({_describe(exc, 0.0)})"
        self._fail(502, f"instance {self._instance()} {why}")

    def upstream_timed_out(self, conn: upstream.UpstreamConnection) -> None:
        self.upstream = None
        seconds = self.client.context.settings.read
        self._fail(504, f"instance {self._instance()} did not answer within {seconds:g} s")

    def upstream_invalid(self, conn: upstream.UpstreamConnection, reason: str) -> None:
        self.upstream = None
        self._fail(502, f"instance {self._instance()} failed: {reason}")

    def _instance(self) -> str:
        e = self.endpoint
        return f"{e.upstream.address} (release {e.release_id}, instance {e.instance_id})"

    def _fail(self, status: int, detail: str) -> None:
        if self.response_started:
            self._count_done()
            self.client.abort()
            return
        self._answer(status, f"Route {self.route.label}: {detail}.")

    # Answers from the router itself ----------------------------------------------------------

    def refuse(self, counters: signals.Counters, status: int, detail: str, *, close: bool) -> None:
        """Make this exchange answer ``status`` itself when its turn comes."""
        self.counters = counters
        counters.requests += 1
        counters.in_flight += 1
        self.status = status
        self.close_after = self.close_after or close
        self.local = heads.error_page(
            status, detail, close=self.close_after, head_only=self.is_head
        )

    def _answer_local(self) -> None:
        page = self.local
        assert page is not None
        self.response_started = True
        self.relay(page)
        self.response_done_ = True
        self._count_done()
        if not self.request_done and (self.chunked or self.body_bytes < self.content_length):
            self.close_after = True  # do not read a body nobody wants
        self.client.exchange_done(self)

    def _answer(self, status: int, detail: str) -> None:
        conn = self.upstream
        if conn is not None:
            self.upstream = None
            conn.exchange = None
            conn.closed = True
            conn.transport.abort()
        close = self.close_after or self.client.closing
        self.status = status
        self.local = heads.error_page(status, detail, close=close, head_only=self.is_head)
        self.close_after = close
        self._answer_local()

    def _count_done(self) -> None:
        if not self.finished:
            self.finished = True
            self.counters.finish(self.status, _clock() - self.started)

    def abandon(self) -> None:
        """The client went away: stop whatever is in flight."""
        conn = self.upstream
        if conn is not None:
            self.upstream = None
            conn.exchange = None
            conn.closed = True
            conn.transport.abort()
        self._count_done()


def _describe(exc: BaseException, timeout: float) -> str:
    """A failed connection, in a few plain words."""
    if isinstance(exc, TimeoutError):
        return f"no connection within {timeout:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, OSError) and exc.errno is not None:
        return os.strerror(exc.errno).lower()
    return str(exc) or type(exc).__name__
