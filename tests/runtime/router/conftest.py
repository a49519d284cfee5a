"""Real routers and real backends on loopback, for the router's tests.

Every wait is bounded; every process started here is stopped by its fixture.
"""

from __future__ import annotations

import http.client
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from shipyard.runtime.router import client, protocol, routes
from tests.conftest import (
    REPO_ROOT,
    free_port,  # noqa: F401 (re-exported: the tests import it from here)
)


@dataclass
class Backend:
    name: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def instance(self, ready: bool = True) -> routes.Instance:
        return routes.Instance(self.address, self.name, ready)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.process.stdout is not None:
            self.process.stdout.close()


def start_backend(name: str, port: int = 0) -> Backend:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.runtime.router.backend", "--name", name, "--port", str(port)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], 10)
    line = process.stdout.readline().decode() if ready else ""
    if not line.startswith("port "):
        process.kill()
        process.wait(5)
        raise RuntimeError(f"backend {name} did not start: {line!r}")
    return Backend(name, int(line.split()[1]), process)


class Router:
    """A router process with its own control socket in a short temporary directory."""

    def __init__(
        self, workers: int = 1, *, pin_workers: bool = False, reuse_port: bool = False
    ) -> None:
        self.dir = tempfile.mkdtemp(prefix="sy-router-", dir="/tmp")
        self.control = os.path.join(self.dir, "control.sock")
        self.log = open(os.path.join(self.dir, "router.log"), "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            client.command(
                self.control, workers=workers, pin_workers=pin_workers, reuse_port=reuse_port
            ),
            cwd=REPO_ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.client = client.RouterClient(self.control, timeout=15)
        self.version = 0
        try:
            self.client.wait_ready(15)
        except Exception:
            self.stop()
            raise

    def apply(self, *route_list: routes.Route, **table: Any) -> protocol.Applied:
        self.version += 1
        return self.client.apply_routes(routes.RouteTable(self.version, route_list, **table))

    def worker_pids(self) -> list[int]:
        path = f"/proc/{self.process.pid}/task/{self.process.pid}/children"
        with open(path) as handle:
            return [int(pid) for pid in handle.read().split()]

    def rss_bytes(self) -> int:
        """Resident memory of the parent and its workers."""
        total = 0
        for pid in [self.process.pid, *self.worker_pids()]:
            with open(f"/proc/{pid}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        return total

    def log_text(self) -> str:
        self.log.flush()
        with open(os.path.join(self.dir, "router.log"), encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                self.client.shutdown(5.0)
            except Exception:
                self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(5)
        self.client.close()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def router() -> Iterator[Router]:
    started = Router()
    yield started
    started.stop()


@pytest.fixture
def two_workers() -> Iterator[Router]:
    """A router of its own with two workers, for a test that kills, counts or fails them."""
    router = Router(workers=2)
    try:
        yield router
    finally:
        router.stop()


@pytest.fixture(scope="module")
def backends() -> Iterator[list[Backend]]:
    started = [start_backend(f"web-{i}") for i in (1, 2, 3)]
    yield started
    for backend in started:
        backend.stop()


def route(
    *groups: tuple[str, int, list[routes.Instance]],
    port: int | None = None,
    environment: str = "staging",
    hosts: tuple[str, ...] = (),
) -> routes.Route:
    return routes.Route(
        app="shop",
        environment=environment,
        groups=tuple(routes.UpstreamGroup(r, w, tuple(i)) for r, w, i in groups),
        port=port,
        hosts=hosts,
    )


def get(
    port: int, path: str, *, method: str = "GET", body: Any = None, headers: Any = None
) -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection: status, headers (lowercased names), body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    finally:
        conn.close()


def echo(port: int, path: str = "/echo", **kwargs: Any) -> dict[str, Any]:
    status, _, data = get(port, path, **kwargs)
    assert status == 200, data
    result: dict[str, Any] = json.loads(data)
    return result


def raw(port: int, data: bytes, *, timeout: float = 10.0) -> bytes:
    """Send raw bytes, read until the router closes the connection (or ``timeout``)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def wait_for(condition: Any, timeout: float = 10.0, interval: float = 0.02) -> Any:
    """Poll ``condition`` until it returns something true, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)
