"""Draining a WebSocket during a deploy: the old instance leaves the route, a request it is
serving finishes, the open WebSocket keeps working meanwhile and is closed last, when the
instance stops, within the deploy's drain time."""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import git
from tests.runtime.router.backend import ws_frame
from tests.server.harness import REPO_ROOT, cleanup, environment, free_port, shipyard, wait_for

PROJECT = """\
app: sockets
services:
  web:
    run: exec python wsapp.py --name {name} --port $PORT
    http: true
    readiness: {{ tcp: true, interval: 100ms, start_period: 8s }}
    stop_grace: 2s
environments:
  staging:
    port: {port}
    deploy: {{ strategy: blue-green, keep_previous: 0s, deadline: 10s, drain_timeout: 4s }}
"""
DRAIN = 4.0

pytestmark = pytest.mark.slow


def served_by(port: int) -> str | None:
    answer = httpx.get(f"http://127.0.0.1:{port}/echo", timeout=10)
    return str(json.loads(answer.text)["instance"]) if answer.status_code == 200 else None


def open_websocket(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16))
    sock.sendall(
        b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + b"\r\n\r\n"
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        assert chunk, head
        head += chunk
    assert head.startswith(b"HTTP/1.1 101 "), head
    return sock


def echoes(sock: socket.socket, payload: bytes) -> bool:
    sock.sendall(ws_frame(0x1, payload, mask=b"abcd"))
    expected = ws_frame(0x1, payload)
    data = b""
    while len(data) < len(expected):
        chunk = sock.recv(65536)
        if not chunk:
            return False
        data += chunk
    return data == expected


def test_a_websocket_is_closed_last_and_within_the_drain_time(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(REPO_ROOT / "tests" / "runtime" / "router" / "backend.py", repo / "wsapp.py")
    (repo / "shipyard.yaml").write_text(PROJECT.format(name="v1", port=port))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "v1")
    with cleanup(home):
        first = shipyard("deploy", "staging", cwd=repo, home=home)
        assert first.returncode == 0, first.stderr + first.stdout
        assert served_by(port) == "v1"
        sock = open_websocket(port)
        assert echoes(sock, b"before the deploy")

        (repo / "shipyard.yaml").write_text(PROJECT.format(name="v2", port=port))
        git(repo, "commit", "-qam", "v2")
        slow: list[tuple[int, float]] = []

        def slow_request() -> None:  # on v1, still in flight when the traffic moves
            answer = httpx.get(f"http://127.0.0.1:{port}/slow?seconds=4", timeout=20)
            slow.append((answer.status_code, time.monotonic()))

        waiter = threading.Thread(target=slow_request, daemon=True)
        waiter.start()
        time.sleep(0.2)
        deploy = subprocess.Popen(
            [sys.executable, "-m", "shipyard", "deploy", "staging"],
            cwd=repo,
            env=environment(home),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            wait_for(lambda: served_by(port) == "v2", 30, "the switch to v2")
            switched = time.monotonic()
            assert not slow, "the slow request ended before the switch: nothing was drained"
            # The old instance is draining: no new request reaches it, the tunnel still works.
            assert {served_by(port) for _ in range(10)} == {"v2"}
            assert echoes(sock, b"while draining")
            sock.settimeout(DRAIN + 10)
            closed = sock.recv(65536) == b""
            closed_at = time.monotonic()
        finally:
            output, _ = deploy.communicate(timeout=60)
            sock.close()
        waiter.join(20)
        assert deploy.returncode == 0, output
        assert [status for status, _ in slow] == [200]
        assert closed
        assert closed_at >= slow[0][1], "the WebSocket was closed before the request finished"
        gone = closed_at - switched
        assert gone <= DRAIN + 2 + 3, f"closed {gone:.1f} s after the switch"
