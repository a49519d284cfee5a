"""`shipyard deploy --set KEY=VALUE`: a config value for one deploy reaches the instances, is
remembered for instances restarted later (by a new server too), and is dropped by the next deploy
without it."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import git
from tests.server.harness import (
    alive,
    api,
    cleanup,
    free_port,
    server_info,
    shipyard,
    wait_for,
    webapp_repo,
)

PROJECT = """\
app: webapp
services:
  web:
    run: exec python -m webapp
    http: {{ health: /healthz }}
    readiness: {{ http: /readyz, interval: 100ms, start_period: 8s }}
    env: {{ WEBAPP_ACCESS_LOG: 0 }}
environments:
  staging:
    port: {port}
    config: {{ WEBAPP_VERSION: from-config }}
    deploy: {{ strategy: blue-green, keep_previous: 0s, deadline: 10s }}
"""

pytestmark = pytest.mark.slow


def version(port: int) -> str | None:
    """The version the app answers with (None while no instance is ready)."""
    answer = httpx.get(f"http://127.0.0.1:{port}/version", timeout=10)
    if answer.status_code == 503:
        return None
    assert answer.status_code == 200, answer.text
    return str(answer.headers["x-webapp-version"])


def instance_pid(home: Path) -> int | None:
    """The one instance's process id (None while it is being started)."""
    (only,) = api(home, "GET", "/api/v1/instances", params={"environment": "staging"}).json()
    return None if only["pid"] is None else int(only["pid"])


def test_set_values_reach_instances_survive_restarts_and_end_with_the_next_deploy(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    repo = webapp_repo(tmp_path / "repo", PROJECT.format(port=port))
    with cleanup(home):
        bad = shipyard("deploy", "staging", "--set", "WEBAPP_VERSION", cwd=repo, home=home)
        assert (bad.returncode, bad.stderr) == (
            2,
            "error: --set WEBAPP_VERSION: expected KEY=VALUE\n  hint: e.g. `--set WORKERS=8`\n",
        )

        deployed = shipyard(
            "deploy", "staging", "--set", "WEBAPP_VERSION=from-set", cwd=repo, home=home
        )
        assert deployed.returncode == 0, deployed.stderr + deployed.stdout
        assert version(port) == "from-set"

        # The server dies; the next one adopts the instance, and restarts it with the same value
        # when it dies.
        server = server_info(home).pid
        os.kill(server, signal.SIGKILL)
        wait_for(lambda: not alive(server), 10, "the server to die")
        started = shipyard("server", "start", cwd=repo, home=home)  # adopts the instance
        assert started.returncode == 0, started.stderr
        pid = instance_pid(home)
        assert pid is not None and alive(pid)
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: instance_pid(home) not in (None, pid), 30, "a restart")
        wait_for(lambda: version(port) == "from-set", 30, "the restarted instance")

        # The next deploy (of a new commit) without --set drops the value.
        (repo / "NOTES").write_text("a change\n")
        git(repo, "add", "NOTES")
        git(repo, "commit", "-qm", "a change")
        again = shipyard("deploy", "staging", cwd=repo, home=home)
        assert again.returncode == 0, again.stderr + again.stdout
        assert version(port) == "from-config"
