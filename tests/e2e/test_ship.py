"""``shipyard ship`` end to end: CI, gate, release, staging, check, then production waiting for
its approval — and a failing CI that stops the ship before anything is deployed."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import git
from tests.server.harness import cleanup, free_port, shipyard, webapp_repo

PROJECT = """\
app: webapp
services:
  web:
    run: exec python -m webapp
    http: {{ health: /healthz }}
    readiness: {{ http: /readyz, interval: 100ms, start_period: 8s }}
    replicas: 2
    stop_grace: 3s
    env: {{ WEBAPP_DRAIN_SECONDS: 1, WEBAPP_ACCESS_LOG: 0 }}
environments:
  staging:
    port: {staging}
    deploy: {{ strategy: blue-green }}
  production:
    port: {production}
    protection: {{ branches: [main], approval: true }}
"""

WORKFLOW = """\
name: ci
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: python -c "import sys; sys.exit({status})"
"""

pytestmark = pytest.mark.slow


def test_ship_runs_ci_then_deploys_environment_after_environment(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    staging, production = free_port(), free_port()
    repo = webapp_repo(tmp_path / "repo", PROJECT.format(staging=staging, production=production))
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "ci.yml").write_text(WORKFLOW.format(status=1))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "failing ci")
    with cleanup(home):
        failed = shipyard("ship", "--to", "production", cwd=repo, home=home)
        assert failed.returncode == 1
        assert "✗ ci failed" in failed.stdout
        assert "error: CI failed: test; nothing was deployed" in failed.stderr
        assert not (home / "server.json").exists()  # nothing was deployed: no server needed
        assert not (home / "releases").exists()

        (repo / ".github" / "workflows" / "ci.yml").write_text(WORKFLOW.format(status=0))
        git(repo, "commit", "-qam", "ci fixed")
        shipped = shipyard("ship", "--to", "production", cwd=repo, home=home)
        assert shipped.returncode == 0, shipped.stderr + shipped.stdout
        out = shipped.stdout
        order = [
            "✓ ci",
            "✓ security",
            "✓ release",
            "✓ deploy staging",
            "✓ check staging",
            "⏸ deploy production",
        ]
        positions = [out.index(stage) for stage in order]
        assert positions == sorted(positions)
        assert f"staging:     http://127.0.0.1:{staging}/" in out
        assert f"production:  http://127.0.0.1:{production}/" in out
        commit = git(repo, "rev-parse", "HEAD")
        assert f"commit:      {commit[:12]} (main)" in out
        assert "waiting for approval: `shipyard approve 2`; the ship stops here" in out
        assert "✓ check production" not in out
        approved = shipyard("approve", "2", cwd=repo, home=home)
        assert approved.returncode == 0, approved.stderr
        for port in (staging, production):
            assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200

        wrong = shipyard("ship", "--to", "prodution", cwd=repo, home=home)
        assert wrong.returncode == 2
        assert wrong.stderr == (
            "error: --to prodution: no such environment in shipyard.yaml\n"
            "  hint: did you mean `production`?\n"
        )
