"""Workers sharing one accept queue even out their client connections (``accepting.py``).

The rule and the shared table are tested directly; the rest on a real router, observing through
``/proc`` which worker holds which connection.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import threading
import time

from shipyard.runtime.router import accepting
from tests.runtime.router.conftest import Backend, Router, free_port, route, wait_for
from tests.runtime.router.test_listeners import _socket_inodes, _tcp_rows


def _owners(port: int, socks: list[socket.socket], workers: list[int]) -> list[int | None]:
    """For each client socket, the worker holding its other end (None: not accepted yet)."""
    by_peer = {int(row[2].split(":")[1], 16): row[9] for row in _tcp_rows(port, "01")}
    held = {pid: _socket_inodes(pid) for pid in workers}
    found: list[int | None] = []
    for sock in socks:
        inode = by_peer.get(sock.getsockname()[1])
        owners = [pid for pid, inodes in held.items() if inode in inodes]
        found.append(owners[0] if owners else None)
    return found


def _all_accepted(port: int, socks: list[socket.socket], workers: list[int]) -> list[int]:
    """The owners of every socket, or [] while some is still in the accept queue."""
    owners = _owners(port, socks, workers)
    return [] if None in owners else [pid for pid in owners if pid is not None]


def _burst(port: int, count: int) -> list[socket.socket]:
    """``count`` connections opened at once, the way a load generator opens its pool."""
    socks = [socket.socket() for _ in range(count)]
    for sock in socks:
        sock.setblocking(False)
    for sock in socks:
        sock.connect_ex(("127.0.0.1", port))
    for sock in socks:
        sock.setblocking(True)
        sock.settimeout(10)
    return socks


def _ask(sock: socket.socket) -> bytes:
    """One request on an open connection: the response's status code."""
    sock.sendall(b"GET /echo HTTP/1.1\r\nHost: shop\r\n\r\n")
    return sock.recv(65536).split(b" ", 2)[1]


def test_the_rule_and_the_table() -> None:
    assert not accepting.over_share(14, 10, slack=4)
    assert accepting.over_share(15, 10, slack=4)
    assert not accepting.over_share(10**6, accepting.ABSENT)  # no other worker serves
    table = accepting.ConnectionTable.create(3)
    try:
        assert list(table.slots) == [accepting.ABSENT] * 3
        seen = accepting.ConnectionTable.open(os.dup(table.fd))  # what a worker maps
        try:
            seen.slots[1] = 7
            seen.slots[2] = 9
            assert table.fewest_other(0) == 7
            assert table.fewest_other(1) == 9
            table.slots[1] = accepting.ABSENT  # the parent: worker 1 died
            assert seen.fewest_other(2) == accepting.ABSENT
            assert seen.fewest_other(0) == 9
        finally:
            seen.close()
    finally:
        table.close()


def test_keep_alive_connections_opened_at_once_are_spread_over_the_workers(
    backends: list[Backend],
    two_workers: Router,
) -> None:
    port = free_port()
    two_workers.apply(route(("r1", 100, [backends[0].instance()]), port=port))
    workers = two_workers.worker_pids()
    for _ in range(3):
        socks = _burst(port, 50)
        try:
            owners = wait_for(lambda s=socks: _all_accepted(port, s, workers))
            shares = sorted(owners.count(pid) for pid in workers)
            # the slack (4) plus the connections accepted before a pause takes effect
            assert 20 <= shares[0] <= shares[1] <= 30, shares
            assert all(_ask(sock) == b"200" for sock in socks)
        finally:
            for sock in socks:
                sock.close()
        wait_for(lambda: not _tcp_rows(port, "01"))


def test_a_burst_of_short_connections_is_all_served_while_workers_stop_and_start(
    backends: list[Backend],
    two_workers: Router,
) -> None:
    port = free_port()
    two_workers.apply(route(("r1", 100, [backends[0].instance()]), port=port))
    outcomes: dict[str, int] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + 60.0

    def client() -> None:
        for _ in range(10):  # 50 clients x 10 connections, one request each
            if time.monotonic() > deadline:
                outcome = "late"
            else:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                try:
                    conn.request("GET", "/echo", headers={"Connection": "close"})
                    response = conn.getresponse()
                    response.read()
                    outcome = str(response.status)
                except OSError as exc:
                    outcome = type(exc).__name__
                except http.client.HTTPException as exc:
                    outcome = type(exc).__name__
                finally:
                    conn.close()
            with lock:
                outcomes[outcome] = outcomes.get(outcome, 0) + 1

    threads = [threading.Thread(target=client) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert outcomes == {"200": 500}


def test_a_killed_worker_never_keeps_the_other_from_accepting(backends: list[Backend]) -> None:
    router = Router(workers=2)
    kept: list[socket.socket] = []
    try:
        port = free_port()
        router.apply(route(("r1", 100, [backends[0].instance()]), port=port))
        workers = router.worker_pids()
        socks = _burst(port, 50)
        owners = wait_for(lambda: _all_accepted(port, socks, workers))
        # the second worker gives back all its connections: the first now holds far more than
        # its share, and stops accepting as soon as one more connection reaches it
        doomed = workers[1]
        for sock, owner in zip(socks, owners, strict=True):
            if owner == doomed:
                sock.close()
            else:
                kept.append(sock)
        wait_for(lambda: _owners(port, kept, workers).count(doomed) == 0)
        os.kill(doomed, signal.SIGKILL)
        wait_for(lambda: doomed not in router.worker_pids())
        # the replacement starts 0.5 s later; until then the survivor must serve every new
        # connection, which it can only do once the dead worker's count (0) is ignored
        survivor = workers[0]
        fresh = []
        for _ in range(20):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            fresh.append(sock)
            assert _ask(sock) == b"200"
        assert _owners(port, fresh, [survivor, *router.worker_pids()]) == [survivor] * 20
        kept.extend(fresh)
    finally:
        for sock in kept:
            sock.close()
        router.stop()
