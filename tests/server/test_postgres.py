"""The same server on PostgreSQL: desired state and instances recorded there, not in SQLite."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from shipyard.store import database, records
from tests.e2e.conftest import make_repo
from tests.server.harness import alive, api, cleanup, server_info, shipyard, wait_for
from tests.store import postgres

PROJECT = """\
app: tiny
services:
  worker:
    run: exec sleep 300
    replicas: 2
    stop_grace: 1s
environments:
  staging:
"""


def test_a_server_on_postgresql_records_and_adopts_from_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    repo = make_repo(tmp_path / "repo", {"shipyard.yaml": PROJECT})
    with postgres.running_server() as server_url:
        url = postgres.create_database(server_url, "shipyard_server")
        env = {"SHIPYARD_DATABASE_URL": url}
        with cleanup(home, env):
            created = shipyard("release", "create", cwd=repo, home=home, env=env)
            assert created.returncode == 0, created.stderr
            up = shipyard("up", "staging", cwd=repo, home=home, env=env)
            assert up.returncode == 0, up.stderr
            with database.open_store(url) as store:
                environment = records.get_environment(store, "staging")
                assert environment is not None and environment.desired == "up"
                saved = records.list_instances(store, "staging")
                assert [(r.name, r.state) for r in saved] == [
                    ("worker.1", "ready"),
                    ("worker.2", "ready"),
                ]
                assert records.get_release(store, created.stdout.strip()) is not None
            assert not (home / "shipyard.db").exists()
            pids = [r.pid or 0 for r in saved]
            server = server_info(home).pid
            os.kill(server, signal.SIGKILL)
            wait_for(lambda: not alive(server), 10, "the server to die")
            ps = shipyard("ps", "staging", cwd=repo, home=home, env=env)
            assert ps.returncode == 0, ps.stderr
            answer = api(home, "GET", "/api/v1/instances").json()
            assert [item["pid"] for item in answer] == pids
            down = shipyard("down", "staging", cwd=repo, home=home, env=env)
            assert down.returncode == 0, down.stderr
            assert not any(alive(pid) for pid in pids)
