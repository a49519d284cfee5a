"""The client side of the proxy: one protocol per client connection.

:class:`ClientConnection` parses requests with llhttp (httptools) and builds each upstream head
as it reads the header fields: hop-by-hop fields dropped, X-Forwarded-*/Forwarded added (built
once per client address and Host, and kept by the worker), the route and the instance chosen. Each
request becomes an :class:`~shipyard.runtime.router.exchange.Exchange`, served in order. No timer
per request: deadlines are checked by the worker's sweep.
"""

from __future__ import annotations

import asyncio
import collections

import httptools

from shipyard.runtime.router import balancer, clientio, context, exchange, heads, signals, upstream

_clock = context.clock
_RequestParser = httptools.HttpRequestParser
_ParserError = httptools.HttpParserError
_ParserUpgrade = httptools.HttpParserUpgrade
_UPSTREAM_HEAD = upstream.HEAD

LINGER_SECONDS = 2.0
"""After refusing a request mid-body, how long to read (and drop) the rest before closing."""

FORWARDED_ENTRIES = 1024
"""X-Forwarded-*/Forwarded lines a worker keeps, by client address and Host."""
FORWARDED_HOST_BYTES = 256
"""Longer Host values are not kept (a client chooses them)."""

# What a connection is doing, for the deadline sweep.
IDLE, HEAD, BUSY, LINGERING, TUNNEL, CLOSED = range(6)

# Request header fields handled specially, by lowercased name.
_HOST, _LENGTH, _CHUNKED, _CONNECTION, _UPGRADE, _DROP, _XFF, _XFP, _XFH, _FORWARDED = range(10)
_SPECIAL = {
    b"host": _HOST,
    b"content-length": _LENGTH,
    b"transfer-encoding": _CHUNKED,
    b"connection": _CONNECTION,
    b"upgrade": _UPGRADE,
    b"keep-alive": _DROP,
    b"te": _DROP,
    b"trailer": _DROP,
    b"x-forwarded-for": _XFF,
    b"x-forwarded-proto": _XFP,
    b"x-forwarded-host": _XFH,
    b"forwarded": _FORWARDED,
}
_STANDARD_TOKENS = frozenset((b"close", b"keep-alive", b"upgrade", b""))
"""Connection tokens that name no field to drop."""


class Refused(Exception):
    """Raised from a parser callback to refuse a request with ``status``."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class _Stop(Exception):
    """Raised from a parser callback to stop reading a connection being closed."""


class Listener:
    """A listening address and what it serves now; ``routing`` is swapped whole per table."""

    __slots__ = ("acceptor", "listen", "routing")

    def __init__(self, listen: str, routing: balancer.Routing) -> None:
        self.listen = listen
        self.routing: balancer.Routing | None = routing
        self.acceptor: clientio.Acceptor | None = None


class ClientConnection(asyncio.Protocol):
    """One client connection: parses its requests and serves them in order."""

    PAUSE_PIPELINE = 1
    """A further request waits for the current response."""
    PAUSE_UPSTREAM = 2
    """The instance reads the request body slower than the client sends it."""
    PAUSE_BUFFER = 4
    """The body held while a connection opens reached PENDING_LIMIT."""
    PAUSE_UPGRADE = 8
    """An upgrade request waits for the instance's answer."""
    PAUSE_LAST = 16
    """The request read was the connection's last: it closes after the response."""

    __slots__ = (
        "adopted",
        "closing",
        "context",
        "deadline",
        "exchange",
        "fwd_host",
        "fwd_lines",
        "head_bytes",
        "listener",
        "parser",
        "parsing",
        "paused",
        "peer",
        "queue",
        "settings",
        "state",
        "transport",
        "tunnel",
        "unattributed",
        "write_paused",
    )

    def __init__(self, ctx: context.Context, listener: Listener) -> None:
        self.context = ctx
        self.settings = ctx.settings
        self.listener = listener
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.parser = _RequestParser(self)
        self.state = IDLE
        self.deadline = 0.0
        self.exchange: exchange.Exchange | None = None
        self.parsing: exchange.Exchange | None = None
        self.queue: collections.deque[exchange.Exchange] | None = None
        self.paused = 0
        self.write_paused = False
        self.closing = False
        self.tunnel: upstream.UpstreamConnection | None = None
        self.unattributed = 0
        self.head_bytes = 0
        self.fwd_host: bytes | None = b"\0"
        self.fwd_lines = b""
        self.peer = "unknown"
        self.adopted: bytes | None = None
        """The first bytes of a connection handed to a second transport (see clientio), read
        once that transport is made."""

    # asyncio.Protocol ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self.adopted is not None:  # the connection's second transport (see clientio)
            self._adopted(transport)
            return
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        if peer:
            self.peer = str(peer[0])
        ctx = self.context
        clients = ctx.clients
        clients.add(self)
        gate = ctx.gate
        if gate is not None:
            gate.opened(len(clients))
        self.deadline = ctx.now + self.settings.client_idle
        if ctx.closing:
            self.transport.close()

    def _adopted(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        data, self.adopted = self.adopted, None
        if self.state == CLOSED:  # closed while it changed hands
            transport.close()
        elif data:
            self.data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.state = CLOSED
        ctx = self.context
        clients = ctx.clients
        clients.discard(self)
        gate = ctx.gate
        if gate is not None:
            gate.closed(len(clients))
        conn = self.tunnel
        if conn is not None:
            self.tunnel = None
            conn.exchange = None
            conn.transport.close()
        ex = self.exchange
        if ex is not None:
            ex.abandon()
        if self.queue:
            for ex in tuple(self.queue):
                ex.abandon()
        self.exchange = None
        self.queue = None
        self.parsing = None
        # The parser holds this protocol's bound methods: a cycle. Break it, so the connection
        # is freed at once rather than by the garbage collector.
        del self.parser

    def eof_received(self) -> bool:
        if self.state == TUNNEL and self.tunnel is not None:
            self.tunnel.transport.close()
            return False
        if self.exchange is not None:
            self.closing = True
            return True  # keep the write side open for the response
        return False

    def pause_writing(self) -> None:
        self.write_paused = True
        ex = self.exchange
        if ex is not None and ex.upstream is not None:
            ex.upstream.pause_reading()

    def resume_writing(self) -> None:
        self.write_paused = False
        ex = self.exchange
        if ex is not None and ex.upstream is not None:
            ex.upstream.resume_reading()

    def data_received(self, data: bytes) -> None:
        state = self.state
        if state == TUNNEL:
            conn = self.tunnel
            if conn is not None:
                ex = self.exchange
                if ex is not None:
                    ex.counters.bytes_in += len(data)
                conn.transport.write(data)
            return
        if state >= LINGERING and state != TUNNEL:
            return
        self.unattributed += len(data)
        if state == IDLE:
            self.state = HEAD
            self.head_bytes = 0
            self.deadline = self.context.now + self.settings.client_header
        try:
            self.parser.feed_data(data)
        except _ParserUpgrade as exc:
            self._upgrading(data[exc.args[0] :])
            return
        except _ParserError as exc:
            if self.state < LINGERING:
                self._parse_failed(exc)
            return
        if self.state == HEAD:
            self.head_bytes += len(data)
            settings = self.settings
            if self.head_bytes > settings.max_request_line + settings.max_header_bytes + 4:
                limit = settings.max_header_bytes
                self._parse_failed(Refused(431, f"The request head is longer than {limit} bytes."))

    # Parser callbacks --------------------------------------------------------------------------

    def on_url(self, url: bytes) -> None:
        ex = self.parsing
        if ex is None:
            if self.state >= LINGERING:
                raise _Stop
            self.parsing = ex = exchange.Exchange(self, url)
        else:
            ex.url += url
        if len(ex.url) > self.settings.max_request_line:
            raise Refused(
                414, f"The request target is longer than {self.settings.max_request_line} bytes."
            )

    def on_header(self, name: bytes, value: bytes) -> None:
        # The limits on fields are checked once the head is read (on_headers_complete), on the
        # fields kept in ``parts`` plus ``header_bytes``, the size of those dropped; a head that
        # does not end is cut off by data_received.
        ex = self.parsing
        assert ex is not None
        lname = name.lower()
        kind = _SPECIAL.get(lname)
        if kind is None:
            if lname.startswith(b"proxy-"):
                ex.header_bytes += len(name) + len(value) + 4
                return
            ex.parts.append(b"%b: %b\r\n" % (name, value))
            return
        parts = ex.parts
        settings = self.settings
        if kind > _LENGTH:  # dropped, or rebuilt from what it says: count it here
            ex.header_bytes += len(name) + len(value) + 4
        if kind == _HOST:
            if ex.host is not None:
                raise Refused(400, "The request has more than one Host header field.")
            ex.host = value
            parts.append(b"%b: %b\r\n" % (name, value))
        elif kind == _LENGTH:
            ex.content_length = int(value)
            parts.append(b"%b: %b\r\n" % (name, value))
        elif kind == _CHUNKED:
            ex.chunked = True
        elif kind == _CONNECTION:
            lowered = value.lower()
            if lowered in _STANDARD_TOKENS:  # "close", "keep-alive": names no other field
                named: tuple[bytes, ...] = ()
            else:
                tokens = [t.strip() for t in lowered.split(b",")]
                named = tuple(t for t in tokens if t not in _STANDARD_TOKENS)
            ex.connection = named if ex.connection is None else ex.connection + named
        elif kind == _UPGRADE:
            ex.upgrade = value
        elif kind >= _XFF and settings.trust_forwarded:
            incoming = ex.incoming
            if incoming is None:
                incoming = ex.incoming = [b"", b"", b"", b""]
            slot = kind - _XFF
            incoming[slot] = incoming[slot] + b", " + value if incoming[slot] else value

    def _too_many_headers(self, ex: exchange.Exchange, fields: bytes) -> None:
        limit = self.settings.max_header_bytes
        if ex.header_bytes + len(fields) > limit:
            raise Refused(431, f"The request header fields are longer than {limit} bytes.")
        limit = self.settings.max_headers
        raise Refused(431, f"The request has more than {limit} header fields.")

    def on_headers_complete(self) -> None:  # noqa: PLR0915 (the request path, inlined)
        ex = self.parsing
        assert ex is not None
        fields = b"".join(ex.parts)
        settings = self.settings
        if (
            len(fields) + ex.header_bytes > settings.max_header_bytes
            or len(ex.parts) > settings.max_headers
        ):
            self._too_many_headers(ex, fields)
        parser = self.parser
        method = ex.method = parser.get_method()
        ex.is_head = method == b"HEAD"
        keep_alive = parser.should_keep_alive()
        ex.close_after = not keep_alive
        if ex.connection is not None or not keep_alive:
            ex.http10 = parser.get_http_version() in ("1.0", "0.9")
        else:
            ex.http10 = False
        ex.started = _clock()
        self.state = BUSY
        self.deadline = 0.0
        routing = self.listener.routing
        route = routing.default if routing is not None else None
        if (
            route is None or method == b"CONNECT" or ex.content_length > settings.max_body_bytes
        ):  # a vhost listener, or the router answers itself
            found = self._route(ex, method)
            if found is None:
                return
            route = found
        ex.route = route
        # From here on, the common path is inlined: it runs once per request.
        group = route.single
        if group is not None:  # RouteRuntime.pick() for a route with one release in rotation
            choices = group.choices
            turn = group.turn
            group.turn = turn + 1
            endpoint = choices[turn % len(choices)]
        else:
            picked = route.pick()
            if picked is None:
                self._refuse_local(ex, route.own, 503, route.why_unavailable())
                return
            endpoint = picked
        ex.endpoint = endpoint
        counters = ex.counters = endpoint.counters
        counters.requests += 1
        counters.in_flight += 1
        if (
            not ex.connection and ex.upgrade is None and ex.incoming is None and not ex.chunked
        ):  # _upstream_head() for a plain request
            host = ex.host
            forwarded = self.fwd_lines
            if host != self.fwd_host:  # _forwarded() for an address and Host the worker keeps
                kept = self.context.forwarded.get((self.peer, host))
                if kept is None:
                    forwarded = self._forwarded(host)
                else:
                    forwarded = self.fwd_lines = kept
                    self.fwd_host = host
            head = ex.head = b"%b %b HTTP/1.1\r\n%b%b\r\n" % (method, ex.url, fields, forwarded)
        else:
            head = ex.head = self._upstream_head(ex, method)
        if self.exchange is not None:
            self._enqueue(ex)  # pipelined: waits for the response before it
            return
        self.exchange = ex
        idle = endpoint.upstream.idle
        while idle:  # Upstream.take()
            conn = idle.pop()
            if not conn.closed:
                ex.upstream = conn
                # UpstreamConnection.send(), inlined for a pooled connection
                conn.phase = _UPSTREAM_HEAD
                conn.complete = False
                conn.exchange = ex
                conn.reused = True
                conn.reads_seen = conn.reads
                conn.deadline = self.context.now + conn.settings.read
                if self.write_paused:
                    conn.pause_reading()
                conn.transport.write(head)
                return
        ex.start()

    def _route(self, ex: exchange.Exchange, method: bytes) -> balancer.RouteRuntime | None:
        """The route for ``ex``; None when the router answered it itself (404, 405, 413, 503)."""
        routing = self.listener.routing
        if routing is None:
            self._refuse_local(ex, None, 503, "This listener was removed from the route table.")
            return None
        route = routing.default
        if routing.by_host:
            host = ex.host
            route = routing.by_host.get(heads.host_key(host)) if host is not None else None
            if route is None:
                name = "(none)" if host is None else host.decode("latin-1")
                self._refuse_local(ex, routing.unrouted, 404, f"No route for host {name}.")
                return None
        if route is None:
            self._refuse_local(ex, routing.unrouted, 404, "No route listens here.")
            return None
        ex.route = route
        if method == b"CONNECT":
            self._refuse_local(
                ex, route.own, 405, "The router does not tunnel CONNECT requests.", close=True
            )
            return None
        limit = self.settings.max_body_bytes
        if ex.content_length > limit:
            self._refuse_local(
                ex, route.own, 413, f"The request body is larger than {limit} bytes.", close=True
            )
            return None
        return route

    def on_body(self, body: bytes) -> None:
        ex = self.parsing
        assert ex is not None
        size = len(body)
        ex.body_bytes += size
        ex.counters.bytes_in += self.unattributed
        self.unattributed = 0
        if ex.local is not None or ex.response_done_:
            return
        if ex.body_bytes > self.settings.max_body_bytes:
            ex._fail(413, f"the request body is larger than {self.settings.max_body_bytes} bytes")
            return
        ex.body(b"%x\r\n%b\r\n" % (size, body) if ex.chunked else body)

    def on_message_complete(self) -> None:
        ex = self.parsing
        assert ex is not None
        self.parsing = None
        ex.request_done = True
        ex.counters.bytes_in += self.unattributed
        self.unattributed = 0
        if ex.chunked and ex.local is None and not ex.response_done_:
            ex.body(b"0\r\n\r\n")
        if self.exchange is None and self.state < LINGERING:
            self._settle()
        elif ex.close_after and ex.upgrade is None:
            # Nothing after this request is served: do not wait for more (nor for the EOF).
            self.pause(self.PAUSE_LAST)

    # Building the upstream request --------------------------------------------------------

    def _upstream_head(self, ex: exchange.Exchange, method: bytes) -> bytes:
        parts = ex.parts
        if ex.connection:
            named = set(ex.connection)
            parts = [p for p in parts if p.partition(b":")[0].lower() not in named]
        if ex.upgrade is not None and self.parser.should_upgrade():
            parts.append(b"Connection: upgrade\r\nUpgrade: " + ex.upgrade + b"\r\n")
        else:
            ex.upgrade = None
        if ex.chunked:
            parts.append(b"Transfer-Encoding: chunked\r\n")
        host = ex.host
        if ex.incoming is not None:
            xff, for_token = heads.forwarded_for(self.peer)
            forwarded = heads.forwarded_lines(xff, for_token, host, ex.incoming)
        elif host == self.fwd_host:
            forwarded = self.fwd_lines
        else:
            forwarded = self._forwarded(host)
        return b"%b %b HTTP/1.1\r\n%b%b\r\n" % (method, ex.url, b"".join(parts), forwarded)

    def _forwarded(self, host: bytes | None) -> bytes:
        """The X-Forwarded-*/Forwarded lines for a request to ``host`` with none of its own to
        extend; kept for the connection's next requests, and in the worker for the next
        connections from the same address (most clients open many)."""
        cache = self.context.forwarded
        key = (self.peer, host)
        lines = cache.get(key)
        if lines is None:
            xff, for_token = heads.forwarded_for(self.peer)
            lines = heads.forwarded_lines(xff, for_token, host)
            if host is None or len(host) <= FORWARDED_HOST_BYTES:
                if len(cache) >= FORWARDED_ENTRIES:
                    cache.clear()
                cache[key] = lines
        self.fwd_host = host
        self.fwd_lines = lines
        return lines

    # Serving exchanges in order -------------------------------------------------------------

    def _enqueue(self, ex: exchange.Exchange) -> None:
        if self.exchange is None:
            self.exchange = ex
            ex.start()
            return
        queue = self.queue
        if queue is None:
            queue = self.queue = collections.deque()
        queue.append(ex)
        self.pause(self.PAUSE_PIPELINE)

    def _refuse_local(
        self,
        ex: exchange.Exchange,
        counters: signals.Counters | None,
        status: int,
        detail: str,
        *,
        close: bool = False,
    ) -> None:
        if counters is None:
            counters = signals.Counters(("", "", "", "", ""))
        counters.bytes_in += self.unattributed
        self.unattributed = 0
        ex.refuse(counters, status, detail, close=close or ex.close_after)
        self._enqueue(ex)

    def exchange_done(self, ex: exchange.Exchange) -> None:
        """``ex`` is answered; serve the next one, or wait for one."""
        if ex is not self.exchange:
            return
        self.exchange = None
        if self.paused:
            self.resume(self.PAUSE_UPSTREAM | self.PAUSE_BUFFER)
        if self.state >= LINGERING:
            return
        if ex.close_after or self.closing:
            if ex.request_done:
                self.state = CLOSED
                self.transport.close()
            else:
                self._linger()
            return
        queue = self.queue
        if queue:
            following = queue.popleft()
            if not queue:
                self.resume(self.PAUSE_PIPELINE)
            self.exchange = following
            following.start()
            return
        if self.parsing is None:  # _settle(), inlined
            self.state = IDLE
            self.deadline = self.context.now + self.settings.client_idle
        else:
            self._settle()

    def _settle(self) -> None:
        """Nothing is being answered: wait for the next request (or the rest of its head)."""
        if self.parsing is None:
            self.state = IDLE
            self.deadline = self.context.now + self.settings.client_idle
        else:
            self.state = HEAD
            self.deadline = self.context.now + self.settings.client_header

    def pause(self, reason: int) -> None:
        if not self.paused and self.state != CLOSED:
            self.transport.pause_reading()
        self.paused |= reason

    def resume(self, reasons: int) -> None:
        if self.paused & reasons:
            self.paused &= ~reasons
            if not self.paused and self.state != CLOSED:
                self.transport.resume_reading()

    def hold_body(self, hold: bool) -> None:
        """Stop (or go on) reading while a request body waits for a connection to open."""
        if hold:
            self.pause(self.PAUSE_BUFFER)
        else:
            self.resume(self.PAUSE_BUFFER)

    @property
    def gone(self) -> bool:
        """The connection is closed: nothing more can be written to it."""
        return self.state == CLOSED

    # Upgrades -------------------------------------------------------------------------------

    def _upgrading(self, rest: bytes) -> None:
        ex = self.queue[-1] if self.queue else self.exchange
        if ex is None or ex.upgrade is None or ex.local is not None:
            # CONNECT, or an upgrade the router answered itself: no tunnel, so close
            if ex is None:
                self.state = CLOSED
                self.transport.close()
            else:
                ex.close_after = True
                self.pause(self.PAUSE_UPGRADE)
            return
        self.pause(self.PAUSE_UPGRADE)
        if rest:
            ex.body(rest)

    def start_tunnel(self, ex: exchange.Exchange, conn: upstream.UpstreamConnection) -> None:
        self.state = TUNNEL
        self.deadline = 0.0
        self.tunnel = conn
        conn.deadline = 0.0
        self.resume(self.PAUSE_UPGRADE | self.PAUSE_PIPELINE)

    # Errors and closing --------------------------------------------------------------------

    def _parse_failed(self, exc: BaseException) -> None:
        cause = exc if isinstance(exc, Refused) else exc.__context__
        if isinstance(cause, Refused):
            status, detail = cause.status, cause.detail
        else:
            status, detail = 400, f"The request is not valid HTTP/1.1: {exc}."
        ex = self.parsing
        self.parsing = None
        current = self.exchange
        if current is not None:
            if ex is current and ex.local is None and not ex.response_started:
                ex.close_after = True
                ex._fail(status, detail[0].lower() + detail[1:].rstrip("."))
            else:
                self.abort()
            return
        if ex is None:
            ex = exchange.Exchange(self, b"")
        ex.is_head = False
        ex.close_after = True
        ex.started = _clock()
        routing = self.listener.routing
        counters = None
        if routing is not None:
            counters = routing.default.own if routing.default is not None else routing.unrouted
        self._refuse_local(ex, counters, status, detail, close=True)

    def _linger(self) -> None:
        """Stop answering but read (and drop) what the client still sends, then close."""
        self.state = LINGERING
        self.deadline = self.context.now + LINGER_SECONDS
        self.paused = 0
        self.transport.resume_reading()
        if self.transport.can_write_eof():
            self.transport.write_eof()

    def abort(self) -> None:
        self.state = CLOSED
        self.transport.abort()

    def expire(self) -> None:
        """The sweep found the deadline passed."""
        if self.state == HEAD and self.exchange is None:
            page = heads.error_page(408, "The request head did not arrive in time.", close=True)
            self.transport.write(page)
        self.state = CLOSED
        self.transport.close()

    def shut_down(self) -> None:
        """Graceful shutdown: close now when idle, else after the current response."""
        self.closing = True
        if self.state in (IDLE, LINGERING) or (self.state == HEAD and self.exchange is None):
            self.state = CLOSED
            self.transport.close()
