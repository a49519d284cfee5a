"""Bodies stream through the router both ways, and upgrades become raw tunnels."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import threading
import time

from tests.runtime.router.backend import ws_frame
from tests.runtime.router.conftest import Backend, Router, free_port, route

SIZE = 48 * 1024 * 1024
"""Large enough that buffering a body whole would show in the router's memory."""
RSS_GROWTH_LIMIT = 24 * 1024 * 1024


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def test_chunked_upload_streams_without_buffering(router: Router, backends: list[Backend]) -> None:
    port = free_port()
    router.apply(route(("r1", 100, [backends[0].instance()]), port=port))
    before = router.rss_bytes()
    peak = [before]
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(0.05):
            peak[0] = max(peak[0], router.rss_bytes())

    watcher = threading.Thread(target=watch)
    watcher.start()
    block = os.urandom(256 * 1024)
    digest = hashlib.sha256()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
            for _ in range(SIZE // len(block)):
                sock.sendall(b"%x\r\n%b\r\n" % (len(block), block))
                digest.update(block)
            sock.sendall(b"0\r\n\r\n")
            head, rest = _read_head(sock)
            length = int(
                next(
                    line.split(b":")[1]
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
            )
            while len(rest) < length:
                rest += sock.recv(65536)
    finally:
        stop.set()
        watcher.join()
    got = json.loads(rest)
    assert got["body_length"] == SIZE
    assert got["body_sha256"] == digest.hexdigest()
    assert peak[0] - before < RSS_GROWTH_LIMIT, (before, peak[0])


def test_large_download_streams_with_backpressure(router: Router, backends: list[Backend]) -> None:
    port = free_port()
    router.apply(route(("r1", 100, [backends[0].instance()]), port=port))
    before = router.rss_bytes()
    peak = before
    received = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        sock.sendall(b"GET /download?size=%d&chunked=1 HTTP/1.1\r\nHost: x\r\n\r\n" % SIZE)
        head, rest = _read_head(sock)
        assert head.startswith(b"HTTP/1.1 200 OK")
        assert b"Transfer-Encoding: chunked" in head
        data = rest
        received = len(rest)
        # Stop reading a while: the router must stop reading the instance, not buffer for us.
        time.sleep(0.5)
        peak = max(peak, router.rss_bytes())
        while not data.endswith(b"0\r\n\r\n"):
            chunk = sock.recv(256 * 1024)
            assert chunk
            data = data[-16:] + chunk
            received += len(chunk)
            if received % (4 * 1024 * 1024) < len(chunk):
                peak = max(peak, router.rss_bytes())
    assert received > SIZE
    assert peak - before < RSS_GROWTH_LIMIT, (before, peak)


def test_websocket_upgrade_is_a_raw_tunnel(router: Router, backends: list[Backend]) -> None:
    port = free_port()
    router.apply(route(("r1", 100, [backends[1].instance()]), port=port))
    key = base64.b64encode(os.urandom(16))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + b"\r\n\r\n"
        )
        head, rest = _read_head(sock)
        assert head.startswith(b"HTTP/1.1 101 ")
        lowered = head.lower()
        assert b"upgrade: websocket" in lowered
        assert b"connection: upgrade" in lowered
        expected = base64.b64encode(
            hashlib.sha1(  # the accept key RFC 6455 defines
                key + b"258EAFA5-E914-47DA-95CA-C5AB0DC11B85", usedforsecurity=False
            ).digest()
        )
        assert b"sec-websocket-accept: " + expected.lower() in lowered
        for payload in (b"hello", b"x" * 70000):
            sock.sendall(ws_frame(0x1, payload, mask=b"abcd"))
            expected_frame = ws_frame(0x1, payload)
            data = rest
            while len(data) < len(expected_frame):
                chunk = sock.recv(65536)
                assert chunk
                data += chunk
            assert data[: len(expected_frame)] == expected_frame
            rest = data[len(expected_frame) :]
        sock.sendall(ws_frame(0x8, b"", mask=b"abcd"))
        assert sock.recv(16) == b"\x88\x00"
