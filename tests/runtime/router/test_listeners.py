"""Listening sockets: one accept queue the workers share (the default), or ``--reuse-port``.

The observables are the kernel's: ``/proc/net/tcp`` (which sockets listen on a port, which
connections are established) and ``/proc/PID/fd`` (which process holds which socket).
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import time

import pytest

from shipyard.runtime.router import errors
from tests.runtime.router.conftest import Backend, Router, free_port, get, route, wait_for


def _tcp_rows(port: int, state: str) -> list[list[str]]:
    """Rows of /proc/net/tcp whose local port is ``port`` in ``state`` (0A listen, 01 open)."""
    with open("/proc/net/tcp") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    return [row for row in rows if int(row[1].split(":")[1], 16) == port and row[3] == state]


def _listening_inodes(port: int) -> list[str]:
    return [row[9] for row in _tcp_rows(port, "0A")]


def _socket_inodes(pid: int) -> set[str]:
    """The inodes of the sockets process ``pid`` holds."""
    found = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(target[len("socket:[") : -1])
    return found


def _connect_refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def _can_bind(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_workers_share_one_listening_socket_and_both_accept(backends: list[Backend]) -> None:
    router = Router(workers=2)
    conns: list[http.client.HTTPConnection] = []
    try:
        port = free_port()
        router.apply(route(("r1", 100, [backends[0].instance()]), port=port))
        (inode,) = _listening_inodes(port)  # one socket, one accept queue
        workers = router.worker_pids()
        assert len(workers) == 2
        for pid in [router.process.pid, *workers]:
            assert inode in _socket_inodes(pid)
        # sequential new connections, each kept open after its request, until both workers
        # hold one (bounded: 200 connections)
        owners: dict[int, int] = dict.fromkeys(workers, 0)
        for _ in range(200):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/echo")
            response = conn.getresponse()
            response.read()
            assert response.status == 200
            conns.append(conn)
            local_port = conn.sock.getsockname()[1]
            (peer,) = [
                row[9]
                for row in _tcp_rows(port, "01")
                if int(row[2].split(":")[1], 16) == local_port
            ]
            (owner,) = [pid for pid in workers if peer in _socket_inodes(pid)]
            owners[owner] += 1
            if all(owners.values()) and len(conns) >= 20:
                break
        assert all(owners.values()), owners
        assert router.process.pid not in owners  # the parent never accepts
    finally:
        for conn in conns:
            conn.close()
        router.stop()


def test_a_worker_killed_is_replaced_on_the_same_socket_and_nothing_is_refused(
    backends: list[Backend],
    two_workers: Router,
) -> None:
    port = free_port()
    two_workers.apply(route(("r1", 100, [backends[0].instance()]), port=port))
    (inode,) = _listening_inodes(port)
    workers = two_workers.worker_pids()
    os.kill(workers[0], signal.SIGKILL)
    statuses: dict[str, int] = {}
    deadline = time.monotonic() + 1.0  # the replacement starts after 0.5 s
    for _ in range(2000):
        if time.monotonic() > deadline:
            break
        try:
            outcome = str(get(port, "/echo")[0])
        except ConnectionRefusedError:
            outcome = "refused"
        except (ConnectionResetError, http.client.RemoteDisconnected):
            outcome = "reset"  # a connection the killed worker had accepted
        statuses[outcome] = statuses.get(outcome, 0) + 1
    assert "refused" not in statuses, statuses
    assert statuses.get("200", 0) > 10, statuses
    wait_for(
        lambda: len(two_workers.worker_pids()) == 2 and workers[0] not in two_workers.worker_pids()
    )
    (replacement,) = set(two_workers.worker_pids()) - set(workers)
    wait_for(lambda: inode in _socket_inodes(replacement))
    assert _listening_inodes(port) == [inode]
    assert all(get(port, "/echo")[0] == 200 for _ in range(10))


def test_a_listener_left_out_of_the_table_is_closed(
    backends: list[Backend], two_workers: Router
) -> None:
    kept, dropped = free_port(), free_port()
    instance = backends[0].instance()
    two_workers.apply(
        route(("r1", 100, [instance]), port=kept),
        route(("r1", 100, [instance]), port=dropped, environment="production"),
    )
    assert get(dropped, "/echo")[0] == 200
    two_workers.apply(route(("r1", 100, [instance]), port=kept))
    assert _listening_inodes(dropped) == []
    assert _connect_refused(dropped)
    assert _can_bind(dropped)
    assert get(kept, "/echo")[0] == 200


def test_a_taken_port_refuses_the_table_and_opens_none_of_its_ports(
    backends: list[Backend],
    two_workers: Router,
) -> None:
    running, fresh = free_port(), free_port()
    instance = backends[0].instance()
    two_workers.apply(route(("r1", 100, [instance]), port=running))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        busy = taken.getsockname()[1]
        with pytest.raises(errors.RouterRefused) as refused:
            two_workers.apply(
                route(("r1", 100, [instance]), port=running),
                route(("r1", 100, [instance]), port=fresh, environment="production"),
                route(("r1", 100, [instance]), port=busy, environment="preview"),
            )
    assert refused.value.code == "bind_failed"
    assert refused.value.headline() == (
        f"table.routes[2].port: cannot listen on 127.0.0.1:{busy}: Address already in use"
    )
    assert two_workers.client.ping().version == two_workers.version - 1
    assert _connect_refused(fresh)
    assert _can_bind(fresh)
    assert get(running, "/echo")[0] == 200


def test_a_table_a_worker_fails_is_rolled_back_and_its_new_ports_closed(
    backends: list[Backend],
    two_workers: Router,
) -> None:
    running, fresh = free_port(), free_port()
    instance = backends[0].instance()
    two_workers.apply(route(("r1", 100, [instance]), port=running))
    applied = two_workers.version
    (inode,) = _listening_inodes(running)
    workers = two_workers.worker_pids()
    os.kill(workers[0], signal.SIGKILL)  # it cannot apply the next table
    with pytest.raises(errors.RouterRefused) as refused:
        two_workers.apply(
            route(("r1", 100, [instance]), port=running),
            route(("r1", 100, [instance]), port=fresh, environment="production"),
        )
    assert refused.value.code == "worker_failed"
    assert two_workers.client.ping().version == applied
    assert _connect_refused(fresh)
    assert _can_bind(fresh)
    assert get(running, "/echo")[0] == 200  # the surviving worker, on the running table
    wait_for(
        lambda: len(two_workers.worker_pids()) == 2 and workers[0] not in two_workers.worker_pids()
    )
    (replacement,) = set(two_workers.worker_pids()) - set(workers)
    wait_for(lambda: inode in _socket_inodes(replacement))
    two_workers.apply(
        route(("r1", 100, [instance]), port=running),
        route(("r1", 100, [instance]), port=fresh, environment="production"),
    )
    assert get(fresh, "/echo")[0] == 200
    assert _listening_inodes(running) == [inode]


def test_a_first_table_a_worker_fails_leaves_no_port_open(
    backends: list[Backend], two_workers: Router
) -> None:
    port = free_port()
    os.kill(two_workers.worker_pids()[0], signal.SIGKILL)
    with pytest.raises(errors.RouterRefused) as refused:
        two_workers.apply(route(("r1", 100, [backends[0].instance()]), port=port))
    assert refused.value.code == "worker_failed"
    assert two_workers.client.ping().version == 0
    assert _listening_inodes(port) == []
    assert _connect_refused(port)


def test_reuse_port_gives_each_worker_its_own_socket(backends: list[Backend]) -> None:
    router = Router(workers=2, reuse_port=True)
    try:
        port = free_port()
        router.apply(route(("r1", 100, [backends[0].instance()]), port=port))
        inodes = _listening_inodes(port)
        assert len(inodes) == 2  # one per worker; the kernel picks the worker per connection
        workers = router.worker_pids()
        assert [len(_socket_inodes(pid) & set(inodes)) for pid in workers] == [1, 1]
        assert not _socket_inodes(router.process.pid) & set(inodes)
        assert all(get(port, "/echo")[0] == 200 for _ in range(20))
        os.kill(workers[0], signal.SIGKILL)
        wait_for(lambda: len(router.worker_pids()) == 2 and workers[0] not in router.worker_pids())
        wait_for(lambda: len(_listening_inodes(port)) == 2)
        wait_for(lambda: all(get(port, "/echo")[0] == 200 for _ in range(10)))
        router.apply(route(("r1", 100, [backends[0].instance()]), port=free_port()))
        wait_for(lambda: _listening_inodes(port) == [])
    finally:
        router.stop()
