"""The instance side: a pool of keep-alive connections per instance address, and the protocol
that reads an instance's responses.

A response head is found in the bytes as they came (llhttp validates and frames them), rewritten
only where it must be, and written to the client with whatever body bytes came with it in one
write; body bytes after that are passed on as they arrive, chunked framing included, so a body is
never buffered whole. Only an HTTP/1.0 client gets a de-chunked body.

When the client connection closes after a response, the response's last bytes and the
connection's FIN leave in one TCP segment (see :func:`~shipyard.runtime.router.clientio.cork`):
one segment fewer to send, and to wake the client for, per request of a client that does not
keep its connection.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import httptools

from shipyard.runtime.router import clientio, context, heads

if TYPE_CHECKING:
    from shipyard.runtime.router import exchange as exchange_module

MAX_IDLE_PER_UPSTREAM = 512
MAX_RESPONSE_HEAD = 64 * 1024
EJECT_FIRST = 1.0
"""Seconds an instance is out of rotation after its first failed connection; doubled per
consecutive failure up to EJECT_MAX."""
EJECT_MAX = 30.0

REWRITE_CACHE_ENTRIES = 256
REWRITE_CACHE_HEAD_BYTES = 1024
"""Response heads rewritten lately are kept, with the rewrite, by the head's exact bytes and
what else the rewrite depends on: an instance sends the same head, bar its Date, for every
response to the same kind of request, so within a second most heads are ones seen before
(about 1.5 µs of the ~45 µs a keep-alive request costs, here). Up to this many heads of up to
this many bytes; the cache starts over when full."""
_rewritten: dict[tuple[bytes, int, bool, bool, bool, bool], tuple[bytes, int]] = {}

HEAD, BODY, TUNNEL = 0, 1, 2
"""What an UpstreamConnection reads now: a response head, its body, or tunnelled bytes."""

_ResponseParser = httptools.HttpResponseParser
_ParserError = httptools.HttpParserError
_ParserUpgrade = httptools.HttpParserUpgrade
_cork = clientio.cork


class Upstream:
    """One instance address: its idle connections, and whether it is ejected or draining."""

    __slots__ = (
        "address",
        "context",
        "draining",
        "ejected_until",
        "failures",
        "host",
        "idle",
        "pooling",
        "port",
        "retired",
    )

    def __init__(self, ctx: context.Context, address: str, host: str, port: int) -> None:
        self.context = ctx
        self.address = address
        self.host = host
        self.port = port
        self.idle: list[UpstreamConnection] = []
        self.draining = False
        self.retired = False
        """No route names this address any more: close connections as they come back."""
        self.pooling = True
        """Neither draining nor retired: connections go back to the pool."""
        self.ejected_until = 0.0
        self.failures = 0

    def take(self) -> UpstreamConnection | None:
        """An idle pooled connection (the most recently used), or None."""
        idle = self.idle
        while idle:
            conn = idle.pop()
            if not conn.closed:
                return conn
        return None

    def set_draining(self, draining: bool) -> None:
        self.draining = draining
        self.pooling = not (self.draining or self.retired)
        if draining:
            self.close_idle()

    def retire(self) -> None:
        self.retired = True
        self.pooling = False
        self.close_idle()

    def give_back(self, conn: UpstreamConnection) -> None:
        """Pool a connection whose exchange is over (or close it when draining)."""
        if not self.pooling or len(self.idle) >= MAX_IDLE_PER_UPSTREAM:
            conn.closed = True
            conn.transport.close()
            return
        if conn.reading_paused:
            conn.reading_paused = False
            conn.transport.resume_reading()
        conn.deadline = self.context.now + self.context.settings.upstream_idle
        self.idle.append(conn)

    def close_idle(self) -> None:
        idle, self.idle = self.idle, []
        for conn in idle:
            conn.closed = True
            conn.transport.close()

    def eject(self) -> float:
        """Take the instance out of rotation after a failed connection; returns for how long."""
        backoff = min(EJECT_FIRST * 2.0**self.failures, EJECT_MAX)
        self.failures += 1
        self.ejected_until = context.clock() + backoff
        return backoff

    async def open(self, timeout: float) -> UpstreamConnection:
        """A new connection; raises OSError or TimeoutError."""
        async with asyncio.timeout(timeout):
            _, conn = await self.context.loop.create_connection(
                lambda: UpstreamConnection(self), self.host, self.port
            )
        self.failures = 0
        return conn


class Dechunker:
    """Decodes a chunked body for an HTTP/1.0 client (rare, so kept off the common path: the
    connection's own parser has no body callback at all)."""

    __slots__ = ("parser", "pieces")

    def __init__(self) -> None:
        self.pieces: list[bytes] = []
        self.parser = _ResponseParser(self)
        self.parser.feed_data(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        self.pieces.append(body)

    def decode(self, data: bytes) -> bytes:
        """The body bytes in ``data`` (chunk sizes, extensions and trailers dropped)."""
        self.parser.feed_data(data)
        out = b"".join(self.pieces)
        self.pieces.clear()
        return out


class UpstreamConnection(asyncio.Protocol):
    """One connection to an instance, serving one exchange at a time.

    ``deadline`` is when the sweep calls :meth:`expire`: the read timeout while an exchange is
    on (pushed back as long as bytes keep coming, see ``reads``), the idle timeout in the pool.
    """

    __slots__ = (
        "buf",
        "closed",
        "complete",
        "context",
        "deadline",
        "dechunker",
        "exchange",
        "framing",
        "interim",
        "keep_alive",
        "out_head",
        "parser",
        "phase",
        "reading_paused",
        "reads",
        "reads_seen",
        "reused",
        "scan",
        "settings",
        "status",
        "transport",
        "upstream",
    )

    def __init__(self, target: Upstream) -> None:
        self.upstream = target
        self.context = target.context
        self.settings = target.context.settings
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.parser = _ResponseParser(self)
        self.exchange: exchange_module.Exchange | None = None
        self.closed = False
        self.reading_paused = False
        self.reused = False
        self.deadline = 0.0
        self.reads = 0
        self.reads_seen = 0
        # The response state. buf, scan, interim, framing and dechunker are back to these
        # values whenever a connection is pooled; send() resets the rest.
        self.buf = b""
        self.scan = 0
        self.phase = HEAD
        self.interim = False
        self.complete = False
        self.keep_alive = False
        self.dechunker: Dechunker | None = None
        self.status = 0
        self.framing = heads.BODY_DELIMITED
        self.out_head = b""

    @property
    def answered(self) -> bool:
        """The instance sent something for the current exchange."""
        return self.phase != HEAD or bool(self.buf) or self.scan > 0

    # asyncio.Protocol ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.context.upstreams.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.context.upstreams.discard(self)
        del self.parser  # it holds this protocol's bound methods: break the cycle
        ex = self.exchange
        if ex is None:
            return
        self.exchange = None
        if self.phase == TUNNEL:
            ex.client.transport.close()
        elif self.phase == BODY and self.framing == heads.BODY_UNTIL_CLOSE:
            ex.response_done()
        else:
            ex.upstream_lost(self, exc)

    def eof_received(self) -> bool:
        return False

    def pause_writing(self) -> None:
        ex = self.exchange
        if ex is not None:
            ex.client.pause(ex.client.PAUSE_UPSTREAM)

    def resume_writing(self) -> None:
        ex = self.exchange
        if ex is not None:
            ex.client.resume(ex.client.PAUSE_UPSTREAM)

    # Driven by the exchange ----------------------------------------------------------------

    def send(self, ex: exchange_module.Exchange, data: bytes, reused: bool) -> None:
        """Start ``ex`` on this connection with ``data`` (its head and any buffered body)."""
        self.phase = HEAD
        self.complete = False
        self.exchange = ex
        self.reused = reused
        self.reads_seen = self.reads
        self.deadline = self.context.now + self.settings.read
        if ex.client.write_paused:
            self.pause_reading()
        self.transport.write(data)

    def pause_reading(self) -> None:
        if not self.reading_paused and not self.closed:
            self.reading_paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.reading_paused and not self.closed:
            self.reading_paused = False
            self.transport.resume_reading()

    def expire(self, now: float) -> None:
        """The sweep found the deadline passed: a read timeout, or idle too long in the pool."""
        ex = self.exchange
        if ex is not None and self.reads != self.reads_seen:
            self.reads_seen = self.reads  # bytes came since: wait one more read timeout
            self.deadline = now + self.settings.read
            return
        self.exchange = None
        self.closed = True
        self.transport.abort()
        if ex is None:
            if self in self.upstream.idle:
                self.upstream.idle.remove(self)
        elif self.phase != TUNNEL:
            ex.upstream_timed_out(self)

    # Reading the response ------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        ex = self.exchange
        if ex is None:
            self.closed = True
            self.transport.abort()  # an idle instance has nothing to say
            return
        self.reads += 1
        if self.phase:  # BODY or TUNNEL
            self._body_received(ex, data)
            return
        # The head (or its start): inlined here, it runs once per response.
        buf = self.buf + data if self.buf else data
        self.buf = buf
        try:
            self.parser.feed_data(data)
        except _ParserUpgrade as exc:
            if self.status != 101:
                self._invalid(exc)
                return
            offset: int = exc.args[0]
            self.phase = TUNNEL
            self.buf = b""
            ex.switched(self, self.out_head, data[offset:])
            return
        except _ParserError as exc:
            if not self.complete:
                self._invalid(exc)
                return
            self._overrun(ex)
        if self.phase == HEAD:  # not whole yet
            if self.scan:
                self.buf = buf[self.scan :]
                self.scan = 0
            if len(self.buf) > MAX_RESPONSE_HEAD:
                self._invalid(None)
            return
        self.buf = b""
        scan = self.scan
        self.scan = 0
        if scan < len(buf) and not ex.is_head:  # (a body after a HEAD response is dropped)
            rest = buf[scan:]
            if self.dechunker is not None:
                try:
                    rest = self.dechunker.decode(rest)
                except _ParserError as exc:
                    self._invalid(exc)
                    return
            out = self.out_head + rest
        else:
            out = self.out_head
        ex.counters.bytes_out += len(out)  # Exchange.relay(), inlined
        client = ex.client
        if self.complete and (ex.close_after or client.closing):
            _cork(client.transport)  # _finish() closes it: the response and the FIN go together
        client.transport.write(out)
        if self.complete:
            self._finish(ex)

    def _body_received(self, ex: exchange_module.Exchange, data: bytes) -> None:
        if self.phase == TUNNEL:
            ex.relay(data)
            return
        try:
            self.parser.feed_data(data)
        except _ParserError as exc:
            if not self.complete:
                self._invalid(exc)
                return
            self._overrun(ex)
        dechunker = self.dechunker
        if dechunker is not None:
            try:
                data = dechunker.decode(data)
            except _ParserError as exc:
                self._invalid(exc)
                return
        if data:
            if self.complete and (ex.close_after or ex.client.closing):
                _cork(ex.client.transport)
            ex.relay(data)
        if self.complete:
            self._finish(ex)

    def _overrun(self, ex: exchange_module.Exchange) -> None:
        """A whole response came, then bytes that are not one. The client's parser stops at
        the response's end; both connections close after it, so nobody reads the rest."""
        self.keep_alive = False
        ex.close_after = True

    def on_headers_complete(self) -> None:
        ex = self.exchange
        assert ex is not None
        if self.complete:
            raise ValueError("a second response head without a request")
        buf = self.buf
        start = self.scan
        end = buf.find(b"\r\n\r\n", start)
        if end < 0:
            raise ValueError("response head does not end with CRLF CRLF")
        end += 4
        self.scan = end
        status = self.parser.get_status_code()
        if status < 200 and status != 101:
            self.interim = True
            ex.interim(buf[start:end])
            return
        self.phase = BODY
        self.status = ex.status = status
        ex.response_started = True
        # Read now: llhttp forgets it once the message is complete. False when the instance
        # closes after this response, and when the body runs until it does.
        keep_alive = self.keep_alive = self.parser.should_keep_alive()
        is_head = ex.is_head
        if ex.upgrade is not None and status != 101:
            ex.close_after = True  # the client's parser is past the upgrade point
        key = (
            buf[start:end],
            status,
            ex.close_after or ex.client.closing,
            ex.http10,
            is_head or status == 204 or status == 304,  # noqa: PLR1714
            keep_alive,
        )
        rewritten = _rewritten.get(key)
        if rewritten is None:
            rewritten = heads.rewrite_response_head(*key)
            if len(key[0]) <= REWRITE_CACHE_HEAD_BYTES:
                if len(_rewritten) >= REWRITE_CACHE_ENTRIES:
                    _rewritten.clear()
                _rewritten[key] = rewritten
        self.out_head, framing = rewritten
        if framing:  # not BODY_DELIMITED
            self.framing = framing
            ex.close_after = True
            if framing == heads.BODY_DECHUNKED:
                self.dechunker = Dechunker()
        if is_head:
            # llhttp would wait for the body a Content-Length announces; a HEAD response has
            # none. Some servers send one anyway: never reuse the connection after a HEAD.
            self.complete = True
            self.keep_alive = False

    def on_message_complete(self) -> None:
        if self.interim:
            self.interim = False
        else:
            self.complete = True

    def _finish(self, ex: exchange_module.Exchange) -> None:
        self.exchange = None
        if ex.request_done and self.keep_alive and not self.framing:
            target = self.upstream
            idle = target.idle
            if self.reading_paused or not target.pooling or len(idle) >= MAX_IDLE_PER_UPSTREAM:
                target.give_back(self)
            else:  # Upstream.give_back's common case, inlined
                self.deadline = self.context.now + self.settings.upstream_idle
                idle.append(self)
        else:
            self.closed = True
            self.transport.close()
        ex.response_done()

    def _invalid(self, exc: BaseException | None) -> None:
        ex = self.exchange
        self.exchange = None
        self.closed = True
        self.transport.abort()
        if ex is None:
            return
        if exc is None:
            reason = f"its response head is longer than {MAX_RESPONSE_HEAD} bytes"
        else:
            detail = str(exc) or type(exc).__name__
            reason = f"its response is not valid HTTP/1.1 ({detail})"
        ex.upstream_invalid(self, reason)
