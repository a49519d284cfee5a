"""The server and the local runtime end to end, with the example app: releases, instances behind
the router, restarts, a server killed with SIGKILL and adopted again, and clean failures."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from shipyard.store import database, records
from tests.server.harness import (
    alive,
    api,
    cleanup,
    free_port,
    processes_of,
    server_info,
    shipyard,
    wait_for,
    webapp_repo,
    webapp_service,
)

PROJECT = (
    webapp_service(replicas=2, stop_grace="3s", drain_seconds=1)
    + """\
environments:
  staging:
    port: {staging}
    config: {{ WEBAPP_VERSION: staging-build }}
  broken:
    port: {broken}
    config: {{ WEBAPP_UNHEALTHY: 1 }}
  taken:
    port: {taken}
"""
)

pytestmark = pytest.mark.slow


def instances(home: Path, environment: str) -> list[dict[str, object]]:
    answer = api(home, "GET", "/api/v1/instances", params={"environment": environment})
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def test_serve_release_route_restart_adopt_and_stop(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    text = PROJECT.format(staging=port, broken=free_port(), taken=free_port())
    repo = webapp_repo(tmp_path / "repo", text)
    router = f"http://127.0.0.1:{port}"
    with cleanup(home):
        created = shipyard("release", "create", cwd=repo, home=home)
        assert created.returncode == 0, created.stderr
        release = created.stdout.strip()

        up = shipyard("up", "staging", cwd=repo, home=home)
        assert up.returncode == 0, up.stderr
        assert up.stdout.splitlines()[0] == (
            f"staging: release {release} of webapp is up on {router}/"
        )

        # Traffic through the router reaches both replicas.
        seen = set()
        with httpx.Client(timeout=10) as http:
            for _ in range(20):
                answer = http.get(router + "/version")
                assert answer.status_code == 200
                assert answer.json()["version"] == "staging-build"
                seen.add(answer.headers["x-webapp-instance"])
        assert len(seen) == 2

        running = instances(home, "staging")
        assert [(i["name"], i["state"], i["release_id"]) for i in running] == [
            ("web.1", "ready", release),
            ("web.2", "ready", release),
        ]
        pids = {str(i["name"]): int(str(i["pid"])) for i in running}
        with database.open_store(f"sqlite:///{home / 'shipyard.db'}") as store:
            environment = records.get_environment(store, "staging")
            assert environment is not None
            assert (environment.release_id, environment.desired) == (release, "up")
            saved = {r.name: r.pid for r in records.list_instances(store, "staging")}
            assert saved == pids

        # A killed instance is restarted by the supervisor.
        os.kill(pids["web.1"], signal.SIGKILL)
        wait_for(
            lambda: any(
                i["name"] == "web.1" and i["restarts"] == 1 and i["state"] == "ready"
                for i in instances(home, "staging")
            ),
            what="web.1 to be restarted",
        )
        pids = {str(i["name"]): int(str(i["pid"])) for i in instances(home, "staging")}

        # Kill -9 the server while traffic flows: the router keeps serving; a new server adopts.
        failures: list[str] = []
        served = [0]
        stop = threading.Event()

        def traffic() -> None:
            with httpx.Client(timeout=5) as http:
                while not stop.is_set():
                    try:
                        answer = http.get(router + "/version")
                        if answer.status_code != 200:
                            failures.append(f"{answer.status_code} {answer.text[:300]}")
                        served[0] += 1
                    except httpx.HTTPError as error:
                        failures.append(repr(error))
                    time.sleep(0.01)

        worker = threading.Thread(target=traffic)
        worker.start()
        try:
            server_pid = server_info(home).pid
            os.kill(server_pid, signal.SIGKILL)
            wait_for(lambda: not alive(server_pid), 10, "the server to die")
            time.sleep(0.5)
            assert all(alive(pid) for pid in pids.values())
            ps = shipyard("ps", "staging", cwd=repo, home=home)  # starts a server again
            assert ps.returncode == 0, ps.stderr
            assert server_info(home).pid != server_pid
            time.sleep(0.5)
        finally:
            stop.set()
            worker.join(timeout=10)
        assert failures == []
        assert served[0] > 20
        adopted = {str(i["name"]): i["pid"] for i in instances(home, "staging")}
        assert adopted == pids

        logs = shipyard("logs", "staging", "web", "-n", "50", cwd=repo, home=home)
        assert "web.1 | --- " in logs.stdout and "killed by signal 9" in logs.stdout

        # A new release takes over once ready; traffic never fails meanwhile.
        from tests.e2e.conftest import git

        (repo / "shipyard.yaml").write_text(text.replace("staging-build", "second-build"))
        git(repo, "commit", "-qam", "second")
        second = shipyard("release", "create", cwd=repo, home=home)
        assert second.returncode == 0, second.stderr
        stop.clear()
        failures.clear()
        worker = threading.Thread(target=traffic)
        worker.start()
        try:
            switched = shipyard("up", "staging", cwd=repo, home=home)
            time.sleep(0.3)
        finally:
            stop.set()
            worker.join(timeout=10)
        assert switched.returncode == 0, switched.stderr
        assert failures == [], (release, second.stdout)
        assert httpx.get(router + "/version", timeout=5).json()["version"] == "second-build"
        assert not any(alive(pid) for pid in pids.values())  # the first release's instances
        pids = {str(i["name"]): int(str(i["pid"])) for i in instances(home, "staging")}

        # down stops every instance; server stop leaves no process behind.
        down = shipyard("down", "staging", cwd=repo, home=home)
        assert down.returncode == 0, down.stderr
        assert not any(alive(pid) for pid in pids.values())
        with pytest.raises(httpx.HTTPError):
            httpx.get(router + "/version", timeout=2)
        again = shipyard("up", "staging", cwd=repo, home=home)
        assert again.returncode == 0, again.stderr
        stopped = shipyard("server", "stop", cwd=repo, home=home)
        assert stopped.returncode == 0, stopped.stderr
        wait_for(lambda: not processes_of(home), 15, "every process to exit")


def test_failures_are_clear_and_leave_nothing_half_started(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    taken_port = free_port()
    text = PROJECT.format(staging=free_port(), broken=free_port(), taken=taken_port)
    text = text.replace("start_period: 8s", "start_period: 2s")
    repo = webapp_repo(tmp_path / "repo", text)
    from tests.e2e.conftest import git

    with cleanup(home):
        # A bad shipyard.yaml: no release.
        (repo / "shipyard.yaml").write_text(text.replace("replicas: 2", "replicas: two"))
        git(repo, "commit", "-qam", "typo")
        bad = shipyard("release", "create", cwd=repo, home=home)
        commit = git(repo, "rev-parse", "HEAD")[:12]
        assert bad.returncode == 2
        assert bad.stderr == (
            f"error: shipyard.yaml@{commit}:8:15: services.web.replicas: expected an integer, "
            "found the string `two`\n"
        )
        assert not (home / "releases").exists() or not any((home / "releases").iterdir())

        # A build that fails: recorded, never deployable.
        (repo / "shipyard.yaml").write_text(
            text.replace("python -m compileall -q webapp", "echo compiling; exit 4")
        )
        git(repo, "commit", "-qam", "broken build")
        failed = shipyard("release", "create", cwd=repo, home=home)
        assert failed.returncode == 2
        assert "  compiling\n" in failed.stderr
        assert "error: the build of service `web` failed; release " in failed.stderr
        failed_id = failed.stderr.split("; release ")[1].split()[0]
        refused = shipyard("up", "staging", "--release", failed_id, cwd=repo, home=home)
        assert refused.returncode == 1
        assert refused.stderr.startswith(
            f"error: release {failed_id} failed to build and can never be deployed\n"
        )

        # A good release, then an environment whose app never becomes ready.
        (repo / "shipyard.yaml").write_text(text)
        git(repo, "commit", "-qam", "fixed")
        created = shipyard("release", "create", cwd=repo, home=home)
        assert created.returncode == 0, created.stderr
        release = created.stdout.strip()
        never = shipyard("up", "broken", cwd=repo, home=home)
        assert never.returncode == 1
        first = never.stderr.splitlines()[0]
        assert first.startswith(f"error: release {release} did not start in broken: instance web.")
        assert first.endswith("it did not become ready: GET /readyz answered 503")
        assert api(home, "GET", "/api/v1/instances").json() == []
        assert api(home, "GET", "/api/v1/environments/broken").status_code == 404

        # A port already taken: refused before any instance starts.
        with socket.socket() as holder:
            holder.bind(("127.0.0.1", taken_port))
            holder.listen()
            taken = shipyard("up", "taken", cwd=repo, home=home)
        assert taken.returncode == 1
        assert taken.stderr.splitlines()[0] == (
            f"error: port {taken_port} of environment `taken` is already in use"
        )
        answer = api(home, "GET", "/api/v1/instances")
        assert answer.json() == []

        # An unknown environment, with a suggestion.
        unknown = shipyard("up", "stagng", cwd=repo, home=home)
        assert unknown.returncode == 2
        assert unknown.stderr == (
            f"error: unknown environment `stagng`: release {release} of `webapp` does not "
            "declare it\n  hint: did you mean `staging`?\n"
        )
        server = server_info(home).pid
        leftovers = [pid for pid in processes_of(home) if pid != server]
        router_pid = api(home, "GET", "/api/v1/status").json()["router_pid"]
        assert all(pid == router_pid or _is_router_worker(pid) for pid in leftovers)


def _is_router_worker(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return b"shipyard.runtime.router" in handle.read()
    except OSError:
        return False
