"""Client connections without an event-loop transport: the router accepts and does their I/O.

A worker accepts on its listening sockets itself (:class:`Acceptor`) and gives each client
connection a :class:`SocketTransport`, a lean transport over the socket that its protocol
(``proxy.ClientConnection``) drives as it would an asyncio transport. Why not the event loop's
server and transports: with a new connection per request, they cost about a fifth of the
router's CPU and most of its tail latency. The loop's transport asks the kernel for both
addresses, sets TCP_NODELAY, registers the socket with epoll and removes it again, and calls
``connection_made`` one loop iteration after the accept, so a request waits a whole iteration
more before it is read.

Here, a connection is served as soon as it is accepted: its request is read at once (it has
usually arrived by then), sent on, and the response written and the socket closed when the
instance answers. The socket is registered with the event loop only when the connection has to
wait: for a request that has not arrived yet, for the next request of a keep-alive connection,
or for a client slower than the response (then writes are buffered, and the protocol told to
pause above :data:`HIGH_WATER` bytes). The addresses come with the accept; TCP_NODELAY is set
before a connection's second write (its first cannot be held back by Nagle's algorithm, as
nothing before it waits for an acknowledgement); a response after which the connection closes
is sent with MSG_MORE (:meth:`SocketTransport.cork`), so its last bytes and the FIN leave in
one segment.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import errno
import logging
import os
import socket
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

READ_BYTES = 64 * 1024
"""Bytes asked for per read (below the C allocator's threshold for mapping memory)."""
HIGH_WATER = 64 * 1024
"""Buffered bytes at which the protocol is told to pause writing (asyncio's default)."""
LOW_WATER = 16 * 1024
"""Buffered bytes at which it is told to resume."""
ACCEPT_BATCH = 64
"""Connections accepted per wake-up, so workers sharing a queue each get a turn."""
ACCEPT_PAUSE_SECONDS = 0.1
"""How long accepting rests when the process is out of file descriptors."""

_DONTWAIT = socket.MSG_DONTWAIT
_MORE = getattr(socket, "MSG_MORE", 0)
_TCP_CORK: int | None = getattr(socket, "TCP_CORK", None)  # both Linux only
_setsockopt = ctypes.CDLL(None, use_errno=True).setsockopt if _TCP_CORK is not None else None
_ON_REF = ctypes.byref(ctypes.c_int(1))
_NOT_ACCEPTED = frozenset((errno.ECONNABORTED, errno.EPROTO, errno.EPERM, errno.EINTR))
"""Errors of one accept that concern only the connection being accepted."""


def cork(transport: asyncio.BaseTransport) -> None:
    """Hold back what is written to a client connection from now on until it is closed, so the
    last bytes go out with the FIN in one segment. Only for a connection about to close: corked,
    a response that does not fill a segment would wait up to 200 ms.

    The router's own transport does it itself (:meth:`SocketTransport.cork`); the event loop's
    (a connection handed to it) gets TCP_CORK in one system call through libc:
    ``socket.setsockopt`` needs a socket object, and making one for uvloop's transport costs
    two more (each ``getsockname``).
    """
    if isinstance(transport, SocketTransport):
        transport.cork()
        return
    if _setsockopt is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:  # failures (the socket just closed) change nothing: not checked
        _setsockopt(sock.fileno(), socket.IPPROTO_TCP, _TCP_CORK, _ON_REF, 4)


class Acceptor:
    """Accepts on one listening socket for as long as it is started.

    ``serve`` gets each accepted socket and the client's address. ``stop`` and ``start`` only
    stop and resume waiting on the socket: connections queued meanwhile stay in the kernel's
    queue (or go to another worker sharing it). ``close`` also closes the socket.
    """

    __slots__ = ("active", "closed", "fd", "loop", "serve", "sock")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        serve: Callable[[socket.SocketType, Any], None],
    ) -> None:
        sock.setblocking(False)
        self.loop = loop
        self.sock = sock
        self.fd = sock.fileno()
        self.serve = serve
        self.active = False
        self.closed = False

    def start(self) -> None:
        if not self.active and not self.closed:
            self.active = True
            self.loop.add_reader(self.fd, self._ready)

    def stop(self) -> None:
        if self.active:
            self.active = False
            self.loop.remove_reader(self.fd)

    def close(self) -> None:
        self.stop()
        if not self.closed:
            self.closed = True
            self.sock.close()

    def _ready(self) -> None:
        accept = self.sock._accept  # type: ignore[attr-defined]  # (fd, address): no object
        family = self.sock.family
        serve = self.serve
        for _ in range(ACCEPT_BATCH):
            if not self.active:  # a connection just served made this worker stop accepting
                return
            try:
                fd, address = accept()
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno in _NOT_ACCEPTED:
                    continue
                # Out of descriptors (or memory): rest, rather than spin on a ready socket.
                log.warning("router: cannot accept on %s (%s); pausing", self.sock, exc.strerror)
                self.stop()
                self.loop.call_later(ACCEPT_PAUSE_SECONDS, self.start)
                return
            serve(socket.SocketType(family, socket.SOCK_STREAM, 0, fd), address)


class SocketTransport(asyncio.Transport):
    """An accepted client socket as the transport its protocol writes to and closes.

    Semantics as asyncio's: ``close`` sends what is buffered first, ``abort`` does not;
    ``connection_lost`` is called soon after the socket closes, never from inside ``close``;
    ``eof_received`` returning true keeps the write side open.
    """

    __slots__ = (
        "buffer",
        "closing",
        "done",
        "eof_pending",
        "fd",
        "hand_over",
        "loop",
        "more",
        "paused",
        "peer",
        "protocol",
        "reading",
        "sock",
        "write_paused",
        "writes",
        "writing",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.SocketType,
        peer: Any,
        protocol: asyncio.Protocol,
        hand_over: Callable[[SocketTransport, bytes], None] | None = None,
    ) -> None:
        self.loop = loop
        self.sock = sock
        self.fd = sock.fileno()
        self.peer = peer
        self.protocol: asyncio.Protocol | None = protocol
        self.buffer = bytearray()
        self.reading = False
        """Registered with the loop for reading."""
        self.writing = False
        """Registered with the loop for writing (``buffer`` holds bytes)."""
        self.paused = False
        """The protocol paused reading."""
        self.write_paused = False
        """The protocol was told to pause writing."""
        self.closing = False
        self.done = False
        """The socket is closed."""
        self.eof_pending = False
        self.more = 0
        """MSG_MORE after :meth:`cork`: the next write waits for the close to go out."""
        self.writes = 0
        self.hand_over = hand_over
        """Called instead of ``data_received`` with the connection's first bytes, unless they
        say ``close``: the event loop's transport serves a connection that stays open better
        (its reads and writes cost less Python). It calls :meth:`detach`."""

    def start(self) -> None:
        """Read what the client sent already (after ``connection_made``), else wait for it."""
        if not self.closing:
            self._read_ready()

    # Reading -------------------------------------------------------------------------------

    def _read_ready(self) -> None:
        try:
            data = self.sock.recv(READ_BYTES, _DONTWAIT)
        except BlockingIOError:
            if not self.reading and not self.paused and not self.closing:
                self._start_reading()
            return
        except OSError as exc:
            self._fatal(exc)
            return
        protocol = self.protocol
        assert protocol is not None
        if not data:
            self._stop_reading()
            try:
                keep_open = protocol.eof_received()
            except Exception as exc:
                self._fatal(exc, "eof_received")
                return
            if not keep_open:
                self.close()
            return
        hand_over = self.hand_over
        if hand_over is not None:
            self.hand_over = None
            if b"close\r\n" not in data and b"Close\r\n" not in data:
                hand_over(self, data)
                return
        try:
            protocol.data_received(data)
        except Exception as exc:
            self._fatal(exc, "data_received")
            return
        if not self.reading and not self.paused and not self.closing:
            self._start_reading()

    def _start_reading(self) -> None:
        self.reading = True
        self.loop.add_reader(self.fd, self._read_ready)

    def _stop_reading(self) -> None:
        if self.reading:
            self.reading = False
            self.loop.remove_reader(self.fd)

    def pause_reading(self) -> None:
        self.paused = True
        self._stop_reading()

    def resume_reading(self) -> None:
        self.paused = False
        if not self.reading and not self.closing:
            self._start_reading()

    def is_reading(self) -> bool:
        return not self.paused and not self.closing

    # Writing -------------------------------------------------------------------------------

    def cork(self) -> None:
        """What is written from now on is the connection's last before it closes: hold it back
        until the close, so the last bytes leave with the FIN in one segment. A response in one
        write is sent with MSG_MORE; after earlier writes, MSG_MORE alone still let the FIN go
        in a segment of its own now and then (about one download in a hundred), TCP_CORK does
        not."""
        self.more = _MORE
        if self.writes and _TCP_CORK is not None:
            with contextlib.suppress(OSError):  # (the connection failed: the next write says so)
                self.sock.setsockopt(socket.IPPROTO_TCP, _TCP_CORK, 1)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self.closing or not data:
            return
        if not self.buffer:
            writes = self.writes
            self.writes = writes + 1
            if writes == 1:  # the second write: it could wait for the first one's ACK
                self._nodelay()
            try:
                sent = self.sock.send(data, _DONTWAIT | self.more)
            except BlockingIOError:
                sent = 0
            except OSError as exc:
                self._fatal(exc)
                return
            if sent == len(data):
                return
            data = memoryview(data)[sent:]
            self.writing = True
            self.loop.add_writer(self.fd, self._write_ready)
        self.buffer += data
        if not self.write_paused and len(self.buffer) > HIGH_WATER:
            self.write_paused = True
            self._tell("pause_writing")

    def writelines(self, list_of_data: Any) -> None:
        self.write(b"".join(list_of_data))

    def _write_ready(self) -> None:
        buffer = self.buffer
        try:
            sent = self.sock.send(buffer, _DONTWAIT | self.more)
        except BlockingIOError:
            return
        except OSError as exc:
            self._fatal(exc)
            return
        del buffer[:sent]
        if self.write_paused and len(buffer) <= LOW_WATER:
            self.write_paused = False
            self._tell("resume_writing")
        if buffer:
            return
        self.writing = False
        self.loop.remove_writer(self.fd)
        if self.closing:
            self._close_now(None)
        elif self.eof_pending:
            self._shutdown_write()

    def _nodelay(self) -> None:
        # (a failure means the connection just failed: its next read or write says so)
        with contextlib.suppress(OSError):
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        if self.closing or self.eof_pending:
            return
        self.eof_pending = True
        if not self.buffer:
            self._shutdown_write()

    def _shutdown_write(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError as exc:
            self._fatal(exc)

    def get_write_buffer_size(self) -> int:
        return len(self.buffer)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return LOW_WATER, HIGH_WATER

    # Closing -------------------------------------------------------------------------------

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        if self.closing:
            return
        self.closing = True
        self._stop_reading()
        if not self.buffer:
            self._close_now(None)

    def abort(self) -> None:
        self._close_now(None)

    def _fatal(self, exc: Exception, callback: str | None = None) -> None:
        if callback is not None:
            self.loop.call_exception_handler(
                {
                    "message": f"router: a client connection's {callback}() failed",
                    "exception": exc,
                    "transport": self,
                    "protocol": self.protocol,
                }
            )
        self._close_now(exc)

    def _close_now(self, exc: Exception | None) -> None:
        if self.done:
            return
        self.done = self.closing = True
        self._stop_reading()
        if self.writing:
            self.writing = False
            self.loop.remove_writer(self.fd)
        self.buffer.clear()
        self.sock.close()
        self.loop.call_soon(self._lost, exc)

    def _lost(self, exc: Exception | None) -> None:
        protocol, self.protocol = self.protocol, None  # (breaks the cycle between the two)
        if protocol is not None:
            protocol.connection_lost(exc)

    def _tell(self, callback: str) -> None:
        protocol = self.protocol
        if protocol is None:
            return
        try:
            getattr(protocol, callback)()
        except Exception as exc:
            self._fatal(exc, callback)

    def detach(self) -> socket.socket:
        """Give the connection up, open, to another transport: this one does nothing more, and
        never calls its protocol again.

        The socket returned is a new descriptor of it: the event loop may still hold its
        watcher of the old one (closed a moment later), and libuv will not open a transport on
        a descriptor it watches."""
        self._stop_reading()
        self.done = self.closing = True
        self.protocol = None
        try:
            return socket.socket(self.sock.family, socket.SOCK_STREAM, 0, os.dup(self.fd))
        finally:
            self.sock.close()

    # The rest of asyncio.Transport ------------------------------------------------------------

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "peername":
            return self.peer
        if name == "socket":
            return self.sock
        if name == "sockname":
            try:
                return self.sock.getsockname()
            except OSError:
                return default
        return default

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        assert isinstance(protocol, asyncio.Protocol)
        self.protocol = protocol

    def get_protocol(self) -> asyncio.BaseProtocol:
        assert self.protocol is not None
        return self.protocol

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        raise NotImplementedError("the router's client connections have fixed limits")
