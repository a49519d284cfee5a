"""Deploys through the real server: a missing secret refuses the deploy before anything changes;
with the secrets set, instances get them as environment variables and nothing stores them."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from shipyard.secrets import secret_files
from tests.e2e.conftest import git
from tests.secrets.conftest import Key
from tests.server.harness import api, cleanup, free_port, shipyard, webapp_repo

TOKEN = "tok-Server-Secret-93"
PROJECT = """\
app: webapp
services:
  web:
    run: 'echo "booting with $API_TOKEN"; exec python -m webapp'
    http: {{ health: /healthz }}
    readiness: {{ http: /readyz, interval: 100ms, start_period: 20s }}
config:
  WEBAPP_VERSION: v-${{{{ secrets.API_TOKEN }}}}
  API_TOKEN: ${{{{ secrets.API_TOKEN }}}}
  DB_URL: postgres://app:${{{{ secrets.DB_PASSWORD }}}}@db/app
environments:
  staging:
    port: {port}
"""

pytestmark = pytest.mark.slow


def test_missing_secrets_refuse_the_deploy_then_secrets_reach_the_instances(
    tmp_path: Path, alice: Key
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    repo = webapp_repo(tmp_path / "app", PROJECT.format(port=port))
    env = {"SHIPYARD_AGE_KEY_FILE": str(alice.file)}
    with cleanup(home, env):
        created = shipyard("release", "create", cwd=repo, home=home, env=env)
        assert created.returncode == 0, created.stderr
        refused = shipyard("up", "staging", cwd=repo, home=home, env=env)
        assert refused.returncode != 0
        assert (
            "environment `staging` refers to 2 missing secrets: API_TOKEN, DB_PASSWORD"
            in refused.stderr
        )
        assert api(home, "GET", "/api/v1/instances").json() == []
        assert api(home, "GET", "/api/v1/environments/staging").status_code == 404

        secret_files.set_value(repo, "staging", "API_TOKEN", TOKEN, [alice.identity])
        secret_files.set_value(repo, "staging", "DB_PASSWORD", "db-Pass-77", [alice.identity])
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "secrets")
        created = shipyard("release", "create", cwd=repo, home=home, env=env)
        assert created.returncode == 0, created.stderr
        up = shipyard("up", "staging", cwd=repo, home=home, env=env)
        assert up.returncode == 0, up.stderr
        version = httpx.get(f"http://127.0.0.1:{port}/version", timeout=10).json()["version"]
        assert version == f"v-{TOKEN}"
        logs = api(home, "GET", "/api/v1/environments/staging/logs", params={"tail": 50})
        assert "booting with ***" in logs.text
    stored = b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())
    assert TOKEN.encode() not in stored
    assert b"db-Pass-77" not in stored
