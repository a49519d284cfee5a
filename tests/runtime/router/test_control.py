"""The control socket of a running router: replies, refusals and their exact wording."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys

import pytest

from shipyard.runtime.router import client, errors, routes
from tests.runtime.router.conftest import Backend, Router, free_port, route


def _exchange(path: str, *lines: bytes) -> list[dict[str, object]]:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(10)
        sock.connect(path)
        replies = []
        buffer = b""
        for line in lines:
            sock.sendall(line)
            while b"\n" not in buffer:
                buffer += sock.recv(65536)
            reply, _, buffer = buffer.partition(b"\n")
            replies.append(json.loads(reply))
        return replies


def test_control_socket_is_private(router: Router) -> None:
    mode = os.stat(router.control).st_mode
    assert stat.S_ISSOCK(mode)
    assert stat.S_IMODE(mode) == 0o600


def test_bad_lines_get_an_error_and_the_connection_stays_usable(router: Router) -> None:
    replies = _exchange(
        router.control,
        b"{oops\n",
        b'{"type": "set_instance_state", "address": "127.0.0.1:9", "state": "gone"}\n',
        b'{"type": "ping"}\n',
    )
    assert replies[0] == {
        "ok": False,
        "type": "error",
        "code": "invalid_message",
        "message": "not valid JSON: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)",
        "key_path": None,
        "hint": "send one JSON object per line",
    }
    assert replies[1]["message"] == "'gone' is not one of: ready, not_ready, draining"
    assert replies[1]["key_path"] == "state"
    assert replies[2]["ok"] is True
    assert replies[2]["type"] == "pong"
    assert replies[2]["pid"] == router.process.pid


def test_versions_only_go_forward(router: Router, backends: list[Backend]) -> None:
    port = free_port()
    applied = router.apply(route(("r1", 100, [backends[0].instance()]), port=port))
    assert applied.listeners == (f"127.0.0.1:{port}",)
    same = routes.RouteTable(
        router.version, (route(("r1", 100, [backends[0].instance()]), port=port),)
    )
    assert router.client.apply_routes(same).version == router.version  # idempotent
    stale = routes.RouteTable(router.version, ())
    with pytest.raises(errors.RouterRefused) as refused:
        router.client.apply_routes(stale)
    assert refused.value.code == "stale_version"
    assert refused.value.render() == (
        f"table.version: route table version {router.version} is not newer than the running "
        f"version {router.version}\n  hint: send each new table with a higher version"
    )
    assert router.client.ping().version == router.version


def test_a_taken_port_is_refused_and_the_old_table_keeps_serving(
    router: Router, backends: list[Backend]
) -> None:
    port = free_port()
    router.apply(route(("r1", 100, [backends[0].instance()]), port=port))
    running = router.version
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        busy = taken.getsockname()[1]
        with pytest.raises(errors.RouterRefused) as refused:
            router.apply(
                route(("r1", 100, [backends[0].instance()]), port=port),
                route(("r1", 100, [backends[1].instance()]), port=busy, environment="production"),
            )
    assert refused.value.code == "bind_failed"
    assert refused.value.headline() == (
        f"table.routes[1].port: cannot listen on 127.0.0.1:{busy}: Address already in use"
    )
    assert router.client.ping().version == running
    conn_ok = socket.create_connection(("127.0.0.1", port), timeout=5)
    conn_ok.close()


def test_unknown_instance_is_refused(router: Router, backends: list[Backend]) -> None:
    router.apply(route(("r1", 100, [backends[0].instance()]), port=free_port()))
    with pytest.raises(errors.RouterRefused) as refused:
        router.client.set_instance_state("127.0.0.1:1", "ready")
    assert refused.value.code == "unknown_instance"
    assert refused.value.render() == (
        "address: no route has an instance at 127.0.0.1:1\n"
        "  hint: apply a route table naming the instance first"
    )
    with pytest.raises(errors.ProtocolError) as invalid:
        router.client.set_instance_state(backends[0].address, "sleeping")
    assert invalid.value.headline() == (
        "state: 'sleeping' is not one of: ready, not_ready, draining"
    )


def test_a_second_router_on_the_same_socket_refuses_to_start(router: Router) -> None:
    done = subprocess.run(
        client.command(router.control),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert f"a router is already listening on {router.control}" in done.stderr
    assert router.client.ping().pid == router.process.pid


def test_client_without_a_router_says_so(tmp_path: object) -> None:
    path = f"/tmp/sy-no-router-{os.getpid()}.sock"
    with pytest.raises(errors.RouterUnavailable) as unavailable:
        client.RouterClient(path, timeout=2).ping()
    assert unavailable.value.render() == (
        f"no answer from the router on {path}: no such socket\n"
        f"  hint: is it running? start it with: python -m shipyard.runtime.router --control {path}"
    )


def test_command_line_is_validated() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "shipyard.runtime.router",
            "--control",
            "/tmp/x.sock",
            "--workers",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert "--workers must be between 1 and 64" in done.stderr
