"""Deploys end to end with the example app behind the router, under load: rolling, blue-green
with an instant rollback, a canary promoted by hand, and a release that never gets ready. Every
request is counted; none may fail."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.deploy.load import Load
from tests.e2e.conftest import git
from tests.server.harness import (
    alive,
    api,
    cleanup,
    free_port,
    shipyard,
    wait_for,
    webapp_repo,
    webapp_service,
)

PROJECT = (
    webapp_service(replicas=2, stop_grace="5s", drain_seconds=3)
    + """\
environments:
  staging:
    port: {port}
    config: {{ WEBAPP_VERSION: {version} }}
    deploy: {{ strategy: rolling, deadline: 10s, drain_timeout: 5s, keep_previous: 5m }}
"""
)

pytestmark = pytest.mark.slow


def commit_version(repo: Path, port: int, version: str, extra: str = "") -> None:
    (repo / "shipyard.yaml").write_text(PROJECT.format(port=port, version=version) + extra)
    git(repo, "commit", "-qam", version)


def served_versions(port: int, count: int = 20) -> set[str]:
    with httpx.Client(timeout=10) as http:
        return {
            http.get(f"http://127.0.0.1:{port}/version").headers["x-webapp-version"]
            for _ in range(count)
        }


def test_every_strategy_and_rollbacks_drop_no_request(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    repo = webapp_repo(tmp_path / "repo", PROJECT.format(port=port, version="v1"))
    with cleanup(home):
        first = shipyard("deploy", "staging", cwd=repo, home=home)
        assert first.returncode == 0, first.stderr + first.stdout
        assert "succeeded: release" in first.stdout
        assert served_versions(port) == {"v1"}

        with Load(port, rate=100, workers=6, slow_ms=1000, max_seconds=240) as load:
            # Rolling: one new instance ready before each old one is drained.
            commit_version(repo, port, "v2")
            rolling = shipyard("deploy", "staging", cwd=repo, home=home)
            assert rolling.returncode == 0, rolling.stderr + rolling.stdout
            assert "route 50% of the traffic to the new release" in rolling.stdout
            assert served_versions(port) == {"v2"}

            # Blue-green keeps v2 warm; the rollback is a route switch.
            commit_version(repo, port, "v3")
            blue = shipyard("deploy", "staging", "--strategy", "blue-green", cwd=repo, home=home)
            assert blue.returncode == 0, blue.stderr + blue.stdout
            assert "keep release" in blue.stdout
            assert served_versions(port) == {"v3"}
            # Another one: v3 is kept warm, v2 (warm since the last deploy) stops once it is
            # done, and the rollback right after it is not refused meanwhile.
            commit_version(repo, port, "v3b")
            again = shipyard("deploy", "staging", "--strategy", "blue-green", cwd=repo, home=home)
            assert again.returncode == 0, again.stderr + again.stdout
            back = shipyard("rollback", "staging", cwd=repo, home=home)
            assert back.returncode == 0, back.stderr + back.stdout
            assert "scale web" not in back.stdout.split("route 100%")[0]  # nothing started
            assert served_versions(port) == {"v3"}
            assert {i["release_id"] for i in api(home, "GET", "/api/v1/instances").json()} == {
                api(home, "GET", "/api/v1/deploys/3").json()["release_id"]
            }

            # Canary: half the traffic, paused until promoted by hand.
            commit_version(repo, port, "v4")
            canary = shipyard(
                "deploy",
                "staging",
                "--strategy",
                "canary",
                "--setting",
                "steps=50",
                cwd=repo,
                home=home,
            )
            assert canary.returncode == 0, canary.stderr + canary.stdout
            assert "paused at 50%" in canary.stdout
            assert served_versions(port, 40) == {"v3", "v4"}
            promoted = shipyard("promote", "staging", cwd=repo, home=home)
            assert promoted.returncode == 0, promoted.stderr + promoted.stdout
            assert served_versions(port) == {"v4"}, promoted.stdout
            tally = load.stop()
        assert tally.failures == []
        assert tally.sent > 300
        assert {"v1", "v2", "v3", "v3b", "v4"} >= set(tally.versions)

        history = shipyard("deploys", "staging", cwd=repo, home=home)
        lines = history.stdout.splitlines()
        kinds = [line.split()[1] for line in lines[1:]]
        assert kinds == ["deploy", "rollback", "deploy", "deploy", "deploy", "deploy"]
        assert all(" succeeded" in line for line in lines[1:])
        assert " canary " in lines[1] and " blue-green " in lines[3] and " rolling " in lines[5]

        # The environment's history has the events later issues consume.
        kinds = [e["kind"] for e in api(home, "GET", "/api/v1/deploys/2/events").json()]
        assert kinds[:2] == ["deploy.requested", "deploy.started"]
        assert "deploy.traffic" in kinds and kinds[-1] == "deploy.succeeded"
        rollback_kinds = [e["kind"] for e in api(home, "GET", "/api/v1/deploys/5/events").json()]
        assert rollback_kinds[-1] == "deploy.rolled_back"


def test_a_release_that_never_gets_ready_fails_its_gate_and_moves_no_traffic(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    repo = webapp_repo(tmp_path / "repo", PROJECT.format(port=port, version="good"))
    with cleanup(home):
        assert shipyard("deploy", "staging", cwd=repo, home=home).returncode == 0
        before = {i["pid"] for i in api(home, "GET", "/api/v1/instances").json()}
        text = PROJECT.format(port=port, version="bad").replace(
            "WEBAPP_ACCESS_LOG: 0", "WEBAPP_ACCESS_LOG: 0, WEBAPP_CRASH_ON_START: 1"
        )
        (repo / "shipyard.yaml").write_text(text)
        git(repo, "commit", "-qam", "crash")
        with Load(port, rate=100, workers=4, slow_every=0, max_seconds=60) as load:
            failed = shipyard("deploy", "staging", "--strategy", "blue-green", cwd=repo, home=home)
            tally = load.stop()
        assert failed.returncode == 1
        assert "keeps exiting before it is ready" in failed.stderr
        assert "its log (" in failed.stderr and "WEBAPP_CRASH_ON_START" in failed.stderr
        assert "still serves staging" in failed.stderr
        assert tally.failures == [] and set(tally.versions) == {"good"}
        after = {i["pid"] for i in api(home, "GET", "/api/v1/instances").json()}
        assert after == before and all(alive(int(pid)) for pid in after)
        history = shipyard("deploys", "staging", cwd=repo, home=home).stdout.splitlines()
        assert " failed " in history[1] and "keeps exiting" in history[1]
        wait_for(lambda: served_versions(port, 5) == {"good"}, 5, "the good release")
