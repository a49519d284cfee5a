"""The router's own accept loop and client transport, on real loopback sockets in a uvloop loop."""

from __future__ import annotations

import asyncio
import os
import resource
import socket
import struct
from collections.abc import Awaitable, Callable
from typing import Any

import uvloop

from shipyard.runtime.router import clientio


class Recorder(asyncio.Protocol):
    """Keeps what a connection's transport tells it; ``answer`` runs on each read."""

    def __init__(self, answer: Callable[[Recorder, bytes], None] | None = None) -> None:
        self.answer = answer
        self.transport: clientio.SocketTransport | None = None
        self.received = b""
        self.events: list[str] = []
        self.lost: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()
        self.keep_open_at_eof = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if isinstance(transport, clientio.SocketTransport):
            self.transport = transport
        self.events.append("made")

    def data_received(self, data: bytes) -> None:
        self.received += data
        if self.answer is not None:
            self.answer(self, data)

    def eof_received(self) -> bool:
        self.events.append("eof")
        return self.keep_open_at_eof

    def pause_writing(self) -> None:
        self.events.append("pause")

    def resume_writing(self) -> None:
        self.events.append("resume")

    def connection_lost(self, exc: Exception | None) -> None:
        self.events.append("lost")
        self.lost.set_result(exc)


def run(test: Callable[[], Awaitable[None]]) -> None:
    loop = uvloop.new_event_loop()
    try:
        loop.run_until_complete(asyncio.wait_for(test(), 20))
    finally:
        loop.close()


async def serving(
    make: Callable[[], Recorder],
    hand_over: Callable[[clientio.SocketTransport, bytes], None] | None = None,
) -> tuple[clientio.Acceptor, int, list[Recorder]]:
    """An acceptor on a free loopback port whose connections get ``make()`` protocols."""
    loop = asyncio.get_running_loop()
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen(64)
    made: list[Recorder] = []

    def serve(sock: socket.SocketType, peer: Any) -> None:
        protocol = make()
        made.append(protocol)
        transport = clientio.SocketTransport(loop, sock, peer, protocol, hand_over)
        protocol.connection_made(transport)
        transport.start()

    acceptor = clientio.Acceptor(loop, listening, serve)
    acceptor.start()
    return acceptor, listening.getsockname()[1], made


async def connect(port: int) -> socket.socket:
    sock = socket.socket()
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    return sock


async def until(condition: Callable[[], object], seconds: float = 2.0) -> None:
    """Wait (bounded) until ``condition()`` is true; the caller asserts what it needs after."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition() and loop.time() < deadline:
        await asyncio.sleep(0.01)


async def read_all(sock: socket.socket) -> bytes:
    """Everything until the server closes its side."""
    loop = asyncio.get_running_loop()
    data = b""
    while chunk := await loop.sock_recv(sock, 1 << 16):
        data += chunk
    return data


def answer_and_close(protocol: Recorder, data: bytes) -> None:
    assert protocol.transport is not None
    protocol.transport.cork()
    protocol.transport.write(b"you said " + data)
    protocol.transport.close()


def test_a_request_is_read_as_it_is_accepted_and_answered_with_the_close() -> None:
    async def test() -> None:
        acceptor, port, made = await serving(lambda: Recorder(answer_and_close))
        sock = await connect(port)
        await asyncio.get_running_loop().sock_sendall(sock, b"hello")
        assert await read_all(sock) == b"you said hello"
        (protocol,) = made
        assert await protocol.lost is None
        assert protocol.events == ["made", "lost"]
        assert protocol.transport is not None
        assert protocol.transport.get_extra_info("peername") == sock.getsockname()
        sock.close()
        acceptor.close()

    run(test)


def test_connection_lost_is_called_after_close_returns_never_inside_it() -> None:
    async def test() -> None:
        order: list[str] = []

        def answer(protocol: Recorder, data: bytes) -> None:
            assert protocol.transport is not None
            protocol.transport.close()
            order.append(f"closed with {protocol.events[-1]!r} last")

        acceptor, port, made = await serving(lambda: Recorder(answer))
        sock = await connect(port)
        await asyncio.get_running_loop().sock_sendall(sock, b"x")
        assert await read_all(sock) == b""
        await made[0].lost
        assert order == ["closed with 'made' last"]
        sock.close()
        acceptor.close()

    run(test)


def test_a_slow_reader_pauses_the_writer_and_still_gets_every_byte_in_order() -> None:
    body = bytes(range(256)) * (64 * 1024)  # 16 MiB: far more than the socket buffers hold

    def answer(protocol: Recorder, data: bytes) -> None:
        assert protocol.transport is not None
        for start in range(0, len(body), 100_000):
            protocol.transport.write(body[start : start + 100_000])  # (most of it buffered)
        assert protocol.transport.get_write_buffer_size() > clientio.HIGH_WATER
        protocol.transport.close()  # after the buffer is sent

    async def test() -> None:
        acceptor, port, made = await serving(lambda: Recorder(answer))
        sock = await connect(port)
        loop = asyncio.get_running_loop()
        await loop.sock_sendall(sock, b"go")
        await asyncio.sleep(0.2)  # let the server fill every buffer on the way
        assert made[0].events == ["made", "pause"]
        assert await read_all(sock) == body
        assert await made[0].lost is None
        assert made[0].events == ["made", "pause", "resume", "lost"]
        sock.close()
        acceptor.close()

    run(test)


def test_write_eof_half_closes_once_the_buffer_is_sent_and_reading_goes_on() -> None:
    def answer(protocol: Recorder, data: bytes) -> None:
        assert protocol.transport is not None
        if data == b"first":
            protocol.transport.write(b"a" * 500_000)
            protocol.transport.write_eof()

    async def test() -> None:
        acceptor, port, made = await serving(lambda: Recorder(answer))
        sock = await connect(port)
        loop = asyncio.get_running_loop()
        await loop.sock_sendall(sock, b"first")
        assert await read_all(sock) == b"a" * 500_000  # then the server's FIN
        await loop.sock_sendall(sock, b"second")  # the other direction is still open
        await until(lambda: made[0].received == b"firstsecond")
        assert made[0].received == b"firstsecond"
        sock.close()
        assert await made[0].lost is None
        assert made[0].events == ["made", "eof", "lost"]
        acceptor.close()

    run(test)


def test_eof_received_true_keeps_the_write_side_open() -> None:
    async def test() -> None:
        def make() -> Recorder:
            protocol = Recorder()
            protocol.keep_open_at_eof = True
            return protocol

        acceptor, port, made = await serving(make)
        sock = await connect(port)
        loop = asyncio.get_running_loop()
        await loop.sock_sendall(sock, b"request")
        sock.shutdown(socket.SHUT_WR)
        await until(lambda: "eof" in made[0].events)
        transport = made[0].transport
        assert transport is not None
        assert made[0].events == ["made", "eof"]
        transport.write(b"late answer")
        transport.close()
        assert await read_all(sock) == b"late answer"
        assert await made[0].lost is None
        sock.close()
        acceptor.close()

    run(test)


def test_a_reset_reaches_connection_lost_as_the_error() -> None:
    async def test() -> None:
        acceptor, port, made = await serving(Recorder)
        sock = await connect(port)
        loop = asyncio.get_running_loop()
        await loop.sock_sendall(sock, b"x")
        await until(lambda: made and made[0].received)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()  # an RST, not a FIN
        assert isinstance(await made[0].lost, ConnectionResetError)
        acceptor.close()

    run(test)


def test_a_failing_protocol_closes_its_connection_and_is_reported() -> None:
    async def test() -> None:
        loop = asyncio.get_running_loop()
        reported: list[dict[str, Any]] = []
        loop.set_exception_handler(lambda _, context: reported.append(context))

        def answer(protocol: Recorder, data: bytes) -> None:
            raise ValueError("a bug")

        acceptor, port, made = await serving(lambda: Recorder(answer))
        sock = await connect(port)
        await loop.sock_sendall(sock, b"x")
        assert await read_all(sock) == b""
        assert isinstance(await made[0].lost, ValueError)
        assert [str(context["exception"]) for context in reported] == ["a bug"]
        assert "data_received" in reported[0]["message"]
        sock.close()
        acceptor.close()

    run(test)


def test_pause_and_resume_reading() -> None:
    async def test() -> None:
        acceptor, port, made = await serving(Recorder)
        sock = await connect(port)
        loop = asyncio.get_running_loop()
        await loop.sock_sendall(sock, b"one")
        await until(lambda: made and made[0].received)
        transport = made[0].transport
        assert transport is not None
        transport.pause_reading()
        assert not transport.is_reading()
        await loop.sock_sendall(sock, b"two")
        await asyncio.sleep(0.1)
        assert made[0].received == b"one"
        transport.resume_reading()
        await until(lambda: made[0].received == b"onetwo")
        assert made[0].received == b"onetwo"
        transport.abort()
        assert await made[0].lost is None
        sock.close()
        acceptor.close()

    run(test)


def test_stopped_acceptor_leaves_connections_queued_until_it_starts_again() -> None:
    async def test() -> None:
        acceptor, port, made = await serving(lambda: Recorder(answer_and_close))
        acceptor.stop()
        sock = await connect(port)  # completes: the kernel queues it
        loop = asyncio.get_running_loop()
        await loop.sock_sendall(sock, b"queued")
        await asyncio.sleep(0.1)
        assert made == []
        acceptor.start()
        assert await read_all(sock) == b"you said queued"
        sock.close()
        acceptor.close()
        assert acceptor.sock.fileno() == -1

    run(test)


def test_a_connection_that_stays_open_is_handed_over_with_its_first_bytes() -> None:
    async def test() -> None:
        loop = asyncio.get_running_loop()
        handed: list[tuple[socket.socket, bytes]] = []

        def hand_over(transport: clientio.SocketTransport, data: bytes) -> None:
            handed.append((transport.detach(), data))

        acceptor, port, made = await serving(lambda: Recorder(answer_and_close), hand_over)
        sock = await connect(port)
        await loop.sock_sendall(sock, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await until(lambda: handed)
        ((detached, first),) = handed
        assert first == b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        assert made[0].received == b""  # the protocol never saw them on this transport
        # The socket is open and now the loop's: its transport reads what comes next.
        successor = Recorder()
        transport, _ = await loop.connect_accepted_socket(lambda: successor, detached)
        await loop.sock_sendall(sock, b"next")
        await until(lambda: successor.received)
        assert successor.received == b"next"
        transport.close()
        assert await successor.lost is None
        sock.close()
        acceptor.close()

    run(test)


def test_a_request_that_says_close_stays_on_the_lean_transport() -> None:
    async def test() -> None:
        handed: list[bytes] = []

        def hand_over(transport: clientio.SocketTransport, data: bytes) -> None:
            handed.append(data)

        acceptor, port, _ = await serving(lambda: Recorder(answer_and_close), hand_over)
        sock = await connect(port)
        loop = asyncio.get_running_loop()
        request = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        await loop.sock_sendall(sock, request)
        assert await read_all(sock) == b"you said " + request
        assert handed == []
        sock.close()
        acceptor.close()

    run(test)


def test_out_of_descriptors_the_acceptor_rests_and_loses_no_connection() -> None:
    async def test() -> None:
        acceptor, port, made = await serving(lambda: Recorder(answer_and_close))
        acceptor.stop()
        clients = [await connect(port) for _ in range(3)]  # queued in the kernel meanwhile
        loop = asyncio.get_running_loop()
        for sock in clients:
            await loop.sock_sendall(sock, b"queued")
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        lowest_free = os.dup(0)  # a new descriptor takes the lowest free number
        os.close(lowest_free)
        resource.setrlimit(resource.RLIMIT_NOFILE, (lowest_free, hard))  # none left to accept
        try:
            acceptor.start()
            await asyncio.sleep(0.05)
            assert made == []
            assert not acceptor.active  # resting, not spinning on a ready socket
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        await until(lambda: len(made) == 3, seconds=5)  # it started again by itself
        for sock in clients:
            assert await read_all(sock) == b"you said queued"
            sock.close()
        acceptor.close()

    run(test)
