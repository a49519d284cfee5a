"""A deployed service gets its secrets as environment variables; its log never shows them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

from shipyard.runtime.supervisor import supervisor
from shipyard.secrets import config as secrets_config
from shipyard.secrets import secret_files
from shipyard.spec import project_loader
from shipyard.store import database, records
from tests.runtime.supervisor.conftest import run, store, webapp_tree  # noqa: F401 - fixtures
from tests.secrets.conftest import Key

TOKEN = "tok-Deploy-Secret-42"
PROJECT = """\
app: webapp
services:
  web:
    run: 'echo "starting with token=$API_TOKEN"; exec python -m webapp'
    http: { health: /healthz }
    readiness: { http: /readyz, interval: 100ms, start_period: 10s }
config:
  API_TOKEN: ${{ secrets.API_TOKEN }}
  WEBAPP_VERSION: v-${{ secrets.API_TOKEN }}
environments:
  staging:
    port: 8081
"""


def test_secrets_reach_the_process_but_not_its_log_or_the_store(
    webapp_tree: Path,  # noqa: F811
    store: database.Store,  # noqa: F811
    tmp_path: Path,
    alice: Key,
) -> None:
    tree = tmp_path / "release"
    shutil.copytree(webapp_tree, tree)
    secret_files.set_value(tree, "staging", "API_TOKEN", TOKEN, [alice.identity])
    loaded = project_loader.load_project(PROJECT, path="shipyard.yaml")
    resolved = secrets_config.resolve(loaded, "staging", repo_root=tree, keys=[alice.identity])
    records.sync_releases(
        store,
        [
            records.ReleaseRecord(
                id="r1", app="webapp", commit="c", tree="t", ref="HEAD", project_digest="d",
                status="built", created_at=0.0, build_seconds=0.0, size_bytes=0,
                failed_service=None,
            )
        ],
    )  # fmt: skip
    records.set_environment(store, "staging", app="webapp", release_id="r1", desired="up")
    workload = supervisor.Workload("staging", "webapp", "r1", loaded, tree, config=resolved)
    home = tmp_path / "home"

    async def scenario(running: supervisor.Supervisor) -> None:
        await running.up(workload)
        (item,) = running.instances("staging")
        url = f"http://127.0.0.1:{item.spec.port}/version"
        with urllib.request.urlopen(url, timeout=5) as answer:
            assert json.loads(answer.read())["version"] == f"v-{TOKEN}"
        await running.flush()

    run(scenario, store, home)
    logs = list((home).rglob("*.log*"))
    text = "".join(path.read_text(errors="replace") for path in logs)
    assert "starting with token=***" in text
    every_file = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert TOKEN.encode() not in every_file


def test_the_log_writer_masks_a_secret_split_across_writes(tmp_path: Path) -> None:
    log = tmp_path / "web.1.log"
    script = textwrap.dedent(
        """\
        import sys, time
        out = sys.stdout.buffer
        for part in (b"token=tok-Spl", b"it-Value-7 and ", b"dG9rLVNwbGl0LVZhbHVlLTc= end\\n"):
            out.write(part); out.flush(); time.sleep(0.2)
        """
    )
    writer = subprocess.Popen(
        [sys.executable, "-m", "shipyard.runtime.supervisor.logshim", str(log), "100000", "1", ""],
        stdin=subprocess.PIPE,
        env={"SHIPYARD_LOG_MASK": json.dumps(["tok-Split-Value-7"]), "PATH": "/usr/bin:/bin"},
    )
    assert writer.stdin is not None
    app = subprocess.Popen([sys.executable, "-c", script], stdout=writer.stdin)
    app.wait(timeout=30)
    writer.stdin.close()
    writer.wait(timeout=30)
    deadline = time.monotonic() + 5
    while not log.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert log.read_text() == "token=*** and *** end\n"
