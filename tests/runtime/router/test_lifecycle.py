"""Route tables swapped under load, several workers, worker restarts, graceful shutdown."""

from __future__ import annotations

import collections
import concurrent.futures
import http.client
import os
import signal
import socket
import threading
import time

import pytest

from tests.runtime.router.conftest import (
    Backend,
    Router,
    free_port,
    get,
    route,
    wait_for,
)


def _load(port: int, stop: threading.Event, path: str = "/slow?seconds=0") -> dict[str, int]:
    """Requests on one keep-alive connection until ``stop`` (bounded: at most 20 s, 50,000)."""
    outcome: collections.Counter[str] = collections.Counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    deadline = time.monotonic() + 20
    try:
        for _ in range(50_000):
            if stop.is_set() or time.monotonic() > deadline:
                break
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                outcome[f"{response.status} {response.getheader('x-instance')}"] += 1
            except (OSError, http.client.HTTPException) as exc:
                outcome[f"error {exc!r}"] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    finally:
        conn.close()
    return dict(outcome)


def test_route_updates_under_load_drop_nothing(router: Router, backends: list[Backend]) -> None:
    port = free_port()
    a, b, c = backends
    router.apply(route(("r1", 100, [a.instance()]), port=port))
    stop = threading.Event()
    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        loads = [pool.submit(_load, port, stop) for _ in range(4)]
        # a slow request started on release r1 must finish there, whatever the table says later
        slow = pool.submit(get, port, "/slow?seconds=0.6")
        time.sleep(0.1)
        for step in range(30):
            weight = (step * 10) % 101
            router.apply(
                route(
                    ("r1", 100 - weight, [a.instance()]),
                    ("r2", weight, [b.instance(), c.instance(ready=step % 2 == 0)]),
                    port=port,
                )
            )
            time.sleep(0.02)
        router.apply(route(("r2", 100, [b.instance()]), port=port))
        status, headers, body = slow.result(timeout=10)
        time.sleep(0.1)
        stop.set()
        outcomes: collections.Counter[str] = collections.Counter()
        for load in loads:
            outcomes.update(load.result(timeout=30))
    assert (status, headers["x-instance"], body) == (200, "web-1", b"slept 0.6")
    assert sum(outcomes.values()) > 100
    assert all(key.startswith("200 ") for key in outcomes), outcomes


def test_several_workers_share_the_port(backends: list[Backend]) -> None:
    router = Router(workers=2, pin_workers=True)
    cpus = sorted(os.sched_getaffinity(0))
    try:
        port = free_port()
        router.apply(route(("r1", 100, [backends[0].instance()]), port=port))
        workers = router.worker_pids()
        assert len(workers) == 2
        assert _listening_sockets(port) == 1  # the parent's, one accept queue for both workers
        assert [os.sched_getaffinity(pid) for pid in workers] == [{cpus[0]}, {cpus[1 % len(cpus)]}]
        for _ in range(60):
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                while sock.recv(65536):
                    pass
        stats = router.client.stats()
        assert stats.workers == 2
        (row,) = [r for r in stats.signals if r.instance_id == "web-1"]
        assert row.requests == 60
        # a worker that dies is replaced and gets the running table
        os.kill(workers[0], signal.SIGKILL)
        wait_for(lambda: len(router.worker_pids()) == 2 and workers[0] not in router.worker_pids())
        assert _listening_sockets(port) == 1
        (replacement,) = set(router.worker_pids()) - set(workers)
        # the same CPU as the one it replaced (it pins itself as it starts)
        wait_for(lambda: os.sched_getaffinity(replacement) == {cpus[0]})
        wait_for(lambda: _all_ok(port), timeout=10)
        assert router.client.ping().version == router.version
    finally:
        router.stop()


def _listening_sockets(port: int) -> int:
    with open("/proc/net/tcp") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    return sum(1 for row in rows if int(row[1].split(":")[1], 16) == port and row[3] == "0A")


def _all_ok(port: int) -> bool:
    return all(get(port, "/echo")[0] == 200 for _ in range(10))


def test_graceful_shutdown_finishes_in_flight_requests(backends: list[Backend]) -> None:
    router = Router()
    try:
        port = free_port()
        router.apply(route(("r1", 100, [backends[0].instance()]), port=port))
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            in_flight = [pool.submit(get, port, "/slow?seconds=0.8") for _ in range(3)]
            wait_for(lambda: _in_flight(router) == 3, timeout=5)
            started = time.monotonic()
            reply = router.client.shutdown(timeout=5.0)
            waited = time.monotonic() - started
            results = [f.result(timeout=10) for f in in_flight]
        assert reply.timeout == 5.0
        assert [(s, b) for s, _, b in results] == [(200, b"slept 0.8")] * 3
        assert all(h.get("connection") == "close" for _, h, _ in results)
        assert 0.3 < waited < 5.0  # it waited for them, not for the whole timeout
        assert router.process.wait(10) == 0
        assert not os.path.exists(router.control)
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        router.stop()


def test_shutdown_timeout_cuts_requests_that_never_end(backends: list[Backend]) -> None:
    router = Router()
    try:
        port = free_port()
        router.apply(route(("r1", 100, [backends[0].instance()]), port=port))
        with socket.create_connection(("127.0.0.1", port), timeout=10) as stuck:
            stuck.sendall(b"GET /stall HTTP/1.1\r\nHost: x\r\n\r\n")
            wait_for(lambda: _in_flight(router) == 1, timeout=5)
            started = time.monotonic()
            router.client.shutdown(timeout=0.5)
            assert time.monotonic() - started < 5
            assert stuck.recv(65536) == b""  # cut, not answered
        assert router.process.wait(10) == 0
    finally:
        router.stop()


def _in_flight(router: Router) -> int:
    return sum(row.in_flight for row in router.client.stats().signals)
