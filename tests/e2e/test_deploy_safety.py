"""Deploy safety end to end: one deploy at a time (refused or queued), protected environments
(branches, approval), the release command and dry runs, and a server killed with SIGKILL in the
middle of a deploy, restarted on exactly one release with its history intact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import git
from tests.server.harness import (
    alive,
    api,
    cleanup,
    environment,
    free_port,
    server_info,
    shipyard,
    wait_for,
    webapp_repo,
    webapp_service,
)

PROJECT = (
    webapp_service(replicas=2, stop_grace="5s", drain_seconds=8)
    + """\
environments:
  staging:
    port: {port}
    config: {{ WEBAPP_VERSION: {version} }}
    deploy: {{ strategy: canary, steps: [{{ weight: 50 }}], deadline: 10s, drain_timeout: 20s }}
{extra}"""
)

pytestmark = pytest.mark.slow


def commit(repo: Path, port: int, version: str, extra: str = "") -> None:
    (repo / "shipyard.yaml").write_text(PROJECT.format(port=port, version=version, extra=extra))
    git(repo, "commit", "-qam", version)


def versions(port: int, count: int = 20) -> set[str]:
    with httpx.Client(timeout=10) as http:
        return {
            http.get(f"http://127.0.0.1:{port}/version").headers["x-webapp-version"]
            for _ in range(count)
        }


def instance_pids(home: Path) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {}
    for item in api(home, "GET", "/api/v1/instances").json():
        found.setdefault(item["release_id"], set()).add(int(item["pid"]))
    return found


def test_one_deploy_at_a_time_queue_abort_dry_run_and_release_command(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    repo = webapp_repo(tmp_path / "repo", PROJECT.format(port=port, version="v1", extra=""))
    with cleanup(home):
        assert shipyard("deploy", "staging", cwd=repo, home=home).returncode == 0
        commit(repo, port, "v2")

        dry = shipyard("deploy", "staging", "--dry-run", cwd=repo, home=home)
        assert dry.returncode == 0, dry.stderr
        assert dry.stdout.splitlines()[0] == "staging: canary rollout, 5 steps"
        assert "  3. pause at 50% until `shipyard promote` (or `shipyard abort`)" in dry.stdout
        assert versions(port) == {"v1"}  # a dry run changes nothing
        assert len(shipyard("deploys", "staging", cwd=repo, home=home).stdout.splitlines()) == 2

        paused = shipyard("deploy", "staging", cwd=repo, home=home)
        assert "paused at 50%" in paused.stdout, paused.stderr
        second = shipyard("deploy", "staging", "--strategy", "rolling", cwd=repo, home=home)
        assert second.returncode == 1
        assert "error: environment `staging` is being changed by deploy 2 of release" in (
            second.stderr
        )
        assert "by root, since " in second.stderr and " s ago)" in second.stderr
        assert "hint: wait for it to finish, or queue behind it: `--wait`" in second.stderr

        queued = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "shipyard",
                "deploy",
                "staging",
                "--wait",
                "--strategy",
                "rolling",
            ],
            cwd=repo,
            env=environment(home),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_for(
                lambda: any(
                    d["status"] == "queued"
                    for d in api(home, "GET", "/api/v1/environments/staging/deploys").json()
                ),
                30,
                "the queued deploy",
            )
            aborted = shipyard("abort", "staging", cwd=repo, home=home)
            assert aborted.returncode == 1
            assert "error: deploy 2 aborted: aborted: by root" in aborted.stderr
            out, err = queued.communicate(timeout=90)
        finally:
            queued.kill()
        assert queued.returncode == 0, out + err
        assert "deploy 3 succeeded" in out
        assert versions(port) == {"v2"}

        # The release command runs before any traffic moves; its failure stops the deploy.
        commit(repo, port, "v3")
        failed = shipyard(
            "deploy",
            "staging",
            "--setting",
            "release_command=echo migrating; exit 3",
            cwd=repo,
            home=home,
        )
        assert failed.returncode == 1
        assert "the release command `echo migrating; exit 3` exited with status 3" in failed.stderr
        assert "migrating" in failed.stderr
        assert versions(port) == {"v2"}

        # Recreate: the old release stops first, then the new one starts.
        recreate = shipyard("deploy", "staging", "--strategy", "recreate", cwd=repo, home=home)
        assert recreate.returncode == 0, recreate.stderr
        steps = [line.split("  ")[-1] for line in recreate.stdout.splitlines()]
        stop_old = next(i for i, line in enumerate(steps) if line.endswith(" to 0"))
        start_new = next(i for i, line in enumerate(steps) if line.endswith(" to 2"))
        assert stop_old < start_new
        assert versions(port) == {"v3"}
        history = shipyard("deploys", "staging", cwd=repo, home=home).stdout.splitlines()
        assert [line.split()[9] for line in history[1:]] == [
            "succeeded",
            "failed",
            "succeeded",
            "aborted",
            "succeeded",
        ]


def test_protected_environment_branches_and_approval(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    protection = "    protection: { branches: [main], approval: true }\n"
    repo = webapp_repo(tmp_path / "repo", PROJECT.format(port=port, version="v1", extra=protection))
    with cleanup(home):
        waiting = shipyard("deploy", "staging", cwd=repo, home=home)
        assert waiting.returncode == 0, waiting.stderr
        assert "waiting for approval: `shipyard approve 1`" in waiting.stdout
        approved = shipyard("approve", "1", cwd=repo, home=home)
        assert approved.returncode == 0, approved.stderr
        assert "deploy 1 approved by root" in approved.stdout
        assert versions(port) == {"v1"}

        git(repo, "checkout", "-q", "-b", "feature")
        commit(repo, port, "v2", protection)
        refused = shipyard("deploy", "staging", cwd=repo, home=home)
        assert refused.returncode == 1
        assert refused.stderr.endswith(
            "error: environment `staging` is protected: only `main` may be deployed there, not "
            "`feature`\n  hint: merge the change into an allowed branch, then deploy from there\n"
        )
        git(repo, "checkout", "-q", "main")
        git(repo, "merge", "-q", "feature")
        waiting = shipyard("deploy", "staging", cwd=repo, home=home)
        assert "waiting for approval: `shipyard approve 2`" in waiting.stdout
        rejected = shipyard("reject", "2", cwd=repo, home=home)
        assert rejected.stdout == "deploy 2 rejected by root\n"
        wait_for(
            lambda: api(home, "GET", "/api/v1/deploys/2").json()["status"] == "rejected",
            10,
            "the rejection",
        )
        assert versions(port) == {"v1"}
        history = shipyard("deploys", "staging", cwd=repo, home=home).stdout
        assert "approved by root" in history and "rejected by root" in history


def test_a_server_killed_mid_deploy_restarts_on_one_release(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    repo = webapp_repo(tmp_path / "repo", PROJECT.format(port=port, version="v1", extra=""))
    with cleanup(home):
        assert shipyard("deploy", "staging", cwd=repo, home=home).returncode == 0
        commit(repo, port, "v2")
        assert "paused at 50%" in shipyard("deploy", "staging", cwd=repo, home=home).stdout
        pids = instance_pids(home)
        assert len(pids) == 2 and versions(port, 40) == {"v1", "v2"}
        (old_release,) = (
            r for r in pids if r != api(home, "GET", "/api/v1/deploys/2").json()["release_id"]
        )

        # Killed at 50%: the environment's recorded release is still v1.
        server = server_info(home).pid
        os.kill(server, signal.SIGKILL)
        wait_for(lambda: not alive(server), 10, "the server to die")
        history = shipyard("deploys", "staging", cwd=repo, home=home)  # starts a new server
        assert history.returncode == 0, history.stderr
        line = history.stdout.splitlines()[1]
        assert " interrupted " in line and "the server stopped during the deploy" in line
        assert f"the environment runs release {old_release}" in line
        wait_for(lambda: set(instance_pids(home)) == {old_release}, 20, "one release")
        new_pids = [
            pid for release, found in pids.items() if release != old_release for pid in found
        ]
        wait_for(lambda: not any(alive(pid) for pid in new_pids), 20, "no orphan")
        assert versions(port) == {"v1"}
        events = api(home, "GET", "/api/v1/deploys/2/events").json()
        assert [e["kind"] for e in events][-1] == "deploy.interrupted"
        assert "deploy.traffic" in [e["kind"] for e in events]

        # Killed after the switch, while the old release drains a slow request: v2 stays.
        assert "paused at 50%" in shipyard("deploy", "staging", cwd=repo, home=home).stdout
        slow = threading.Thread(
            target=lambda: [
                httpx.get(f"http://127.0.0.1:{port}/slow?ms=6000", timeout=30) for _ in range(2)
            ],
            daemon=True,
        )
        slow.start()
        time.sleep(0.3)
        promote = subprocess.Popen(
            [sys.executable, "-m", "shipyard", "promote", "staging"],
            cwd=repo,
            env=environment(home),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(
                lambda: api(home, "GET", "/api/v1/deploys/3").json()["weight"] == 100,
                20,
                "the switch",
            )
            server = server_info(home).pid
            os.kill(server, signal.SIGKILL)
        finally:
            promote.wait(timeout=30)
        wait_for(lambda: not alive(server), 10, "the server to die")
        history = shipyard("deploys", "staging", cwd=repo, home=home)
        line = history.stdout.splitlines()[1]
        new_release = api(home, "GET", "/api/v1/deploys/3").json()["release_id"]
        assert " interrupted " in line and f"runs release {new_release}" in line
        wait_for(lambda: set(instance_pids(home)) == {new_release}, 20, "one release")
        assert versions(port) == {"v2"}
        stopped = shipyard("server", "stop", cwd=repo, home=home)
        assert stopped.returncode == 0


def test_mistakes_get_clear_errors_and_change_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    repo = webapp_repo(tmp_path / "repo", PROJECT.format(port=port, version="v1", extra=""))
    with cleanup(home):
        both = shipyard("deploy", "staging", "--ref", "HEAD", "--release", "x", cwd=repo, home=home)
        assert (both.returncode, both.stderr) == (
            2,
            "error: --ref and --release cannot be used together\n",
        )
        assert shipyard("deploy", "staging", cwd=repo, home=home).returncode == 0

        typo = shipyard("deploy", "staging", "--setting", "stratgy=canary", cwd=repo, home=home)
        assert typo.returncode == 2
        assert typo.stderr.endswith(
            "error: --setting stratgy=canary: unknown deploy setting `stratgy`\n"
            "  hint: did you mean `strategy`?\n"
        )
        shape = shipyard("deploy", "staging", "--setting", "steps", cwd=repo, home=home)
        assert (shape.returncode, shape.stderr) == (
            2,
            "error: --setting steps: expected KEY=VALUE\n  hint: e.g. `--setting drain_timeout=10s`\n",
        )
        unknown = shipyard("deploy", "stagng", cwd=repo, home=home)
        assert unknown.returncode == 2
        assert "error: unknown environment `stagng`: release " in unknown.stderr
        assert "hint: did you mean `staging`?" in unknown.stderr

        idle = shipyard("promote", "staging", cwd=repo, home=home)
        assert (idle.returncode, idle.stderr) == (
            1,
            "error: no deploy is running in environment `staging`\n"
            "  hint: see its history: `shipyard deploys ENV`\n",
        )
        nothing = shipyard("rollback", "staging", cwd=repo, home=home)
        assert nothing.returncode == 1
        assert "has no previous release to roll back to" in nothing.stderr
        missing = shipyard("approve", "99", cwd=repo, home=home)
        assert (missing.returncode, missing.stderr) == (
            2,
            "error: no deploy 99\n  hint: list them: `shipyard deploys ENV`\n",
        )
        history = shipyard("deploys", "staging", cwd=repo, home=home).stdout.splitlines()
        assert len(history) == 2  # only the one good deploy
        assert versions(port) == {"v1"}
