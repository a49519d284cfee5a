"""The real server in its own process: token, JSON refusals, OpenAPI, server.json, start/stop."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.server.harness import (
    api,
    cleanup,
    processes_of,
    server_info,
    shipyard,
    wait_for,
)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("api") / "home"
    path.mkdir()
    with cleanup(path):
        started = shipyard("server", "start", cwd=path, home=path)
        assert started.returncode == 0, started.stderr
        yield path


def test_server_json_names_the_server_and_only_its_owner_reads_it(home: Path) -> None:
    info = server_info(home)
    assert stat.S_IMODE((home / "server.json").stat().st_mode) == 0o600
    assert info.host == "127.0.0.1" and info.port > 0 and len(info.token) >= 32
    assert api(home, "GET", "/api/v1/status").json()["pid"] == info.pid
    status = shipyard("server", "status", cwd=home, home=home)
    assert status.stdout.startswith(f"running: {info.url} (pid {info.pid}, up ")
    again = shipyard("server", "start", cwd=home, home=home)
    assert again.stdout == f"already running: {info.url} (pid {info.pid})\n"


@pytest.mark.parametrize(
    ("headers", "message"),
    [({}, "missing token"), ({"Authorization": "Bearer wrong"}, "invalid token")],
)
def test_every_route_requires_the_token(home: Path, headers: dict[str, str], message: str) -> None:
    url = server_info(home).url
    for path in ("/api/v1/status", "/openapi.json", "/api/v1/environments", "/nowhere"):
        answer = httpx.get(url + path, headers=headers, timeout=30)
        assert answer.status_code == 401
        assert answer.json() == {
            "error": {
                "message": message,
                "hint": "send `Authorization: Bearer <token>`; the token is in "
                "$SHIPYARD_HOME/server.json",
            }
        }


def test_the_openapi_document_is_published(home: Path) -> None:
    document = api(home, "GET", "/openapi.json").json()
    assert document["info"]["title"] == "Shipyard"
    assert {
        "/api/v1/status",
        "/api/v1/releases",
        "/api/v1/environments",
        "/api/v1/environments/{name}",
        "/api/v1/environments/{name}/up",
        "/api/v1/environments/{name}/down",
        "/api/v1/environments/{name}/logs",
        "/api/v1/instances",
    } <= set(document["paths"])


def test_refusals_are_json_with_a_message_and_a_hint(home: Path) -> None:
    unknown = api(home, "GET", "/api/v1/environments/stagng")
    assert (unknown.status_code, unknown.json()["error"]["message"]) == (
        404,
        "unknown environment `stagng`",
    )
    invalid = api(home, "POST", "/api/v1/environments/staging/up", json={"replicas": "many"})
    assert invalid.status_code == 422
    assert invalid.json()["error"] == {
        "message": "invalid request: replicas: Input should be a valid dictionary",
        "hint": "see /openapi.json for the request's shape",
    }
    not_json = api(home, "POST", "/api/v1/environments/staging/up", content=b"{")
    assert not_json.status_code == 422
    no_release = api(home, "POST", "/api/v1/environments/staging/up", json={"app": "shop"})
    assert (no_release.status_code, no_release.json()["error"]) == (
        404,
        {
            "message": "app `shop` has no built release",
            "hint": "create one: `shipyard release create`",
        },
    )
    nowhere = api(home, "GET", "/api/v1/nowhere")
    assert (nowhere.status_code, nowhere.json()["error"]["message"]) == (404, "not found")
    for answer in (unknown, invalid, not_json, no_release, nowhere):
        assert "Traceback" not in answer.text


def test_the_cli_reports_refusals_in_one_block(home: Path) -> None:
    done = shipyard("down", "nowhere", cwd=home, home=home)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "error: unknown environment `nowhere`\n"
        "  hint: no environment has been started yet: `shipyard up ENV`\n"
    )


def test_stop_removes_server_json_and_leaves_no_process(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    with cleanup(home):
        ps = shipyard("ps", cwd=home, home=home)  # starts the server in the background
        assert (ps.returncode, ps.stdout) == (0, "no instances running\n"), ps.stderr
        pid = server_info(home).pid
        stopped = shipyard("server", "stop", cwd=home, home=home)
        assert stopped.stdout == f"stopped (pid {pid})\n"
        assert not (home / "server.json").exists()
        wait_for(lambda: not processes_of(home), 10, "the router to exit")
        status = shipyard("server", "status", cwd=home, home=home)
        assert (status.returncode, status.stdout) == (1, "not running\n")


def test_a_taken_server_port_is_one_clear_error(tmp_path: Path) -> None:
    import socket

    home = tmp_path / "home"
    home.mkdir()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = shipyard("serve", "--port", str(port), cwd=home, home=home, timeout=60)
    assert done.returncode == 2
    assert done.stderr == (
        f"error: port {port} on 127.0.0.1 is already in use\n"
        "  hint: stop what listens there, or give another: `shipyard serve --port N` "
        "(or set SHIPYARD_SERVER_PORT)\n"
    )
    assert not os.path.exists(home / "server.json")


def test_a_deploy_lock_left_by_a_killed_server_is_released(tmp_path: Path) -> None:
    import socket

    from shipyard.store import database, records

    home = tmp_path / "home"
    home.mkdir()
    url = f"sqlite:///{home / 'shipyard.db'}"
    dead = f"server@{socket.gethostname()}:999999999:0000"
    other_machine = "server@elsewhere:1:0000"
    with database.open_store(url) as store:
        assert records.acquire_lock(store, "staging", dead, ttl=600)
        assert records.acquire_lock(store, "production", other_machine, ttl=600)
    with cleanup(home):
        assert shipyard("ps", cwd=home, home=home).returncode == 0
        with database.open_store(url) as store:
            assert records.lock_holder(store, "staging") is None
            assert records.lock_holder(store, "production") == other_machine
