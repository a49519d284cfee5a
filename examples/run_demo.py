"""`make demo`: ship the bundled example app with Shipyard, from CI to production.

The example app lives in examples/webapp/ inside Shipyard's own repository; a workflow expects
to be the root of its repository, so the demo copies the app into a fresh git repository first
(in a temporary directory) and runs `shipyard ship --to production` there, as a developer would
in their own project: CI, the security gate, a release, a blue-green deploy to staging, a check,
then a rolling deploy to production. The server, the router and the app keep running afterwards;
everything lives in .shipyard-home/, and the last lines say how to stop it all.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
APP = HERE / "webapp"
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".venv", "dist", "build", ".mypy_cache")


def git(root: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Shipyard Demo",
        "GIT_AUTHOR_EMAIL": "demo@example.invalid",
        "GIT_COMMITTER_NAME": "Shipyard Demo",
        "GIT_COMMITTER_EMAIL": "demo@example.invalid",
    }
    subprocess.run(["git", "-C", str(root), *args], check=True, env=env, capture_output=True)


def main() -> int:
    home = REPO / ".shipyard-home"
    home.mkdir(exist_ok=True)
    env = {**os.environ, "SHIPYARD_HOME": str(home)}
    env.pop("SHIPYARD_SERVER_PORT", None)
    with tempfile.TemporaryDirectory(prefix="shipyard-demo-") as scratch:
        project = Path(scratch) / "webapp"
        shutil.copytree(APP, project, ignore=IGNORED)
        git(project, "init", "-q", "-b", "main")
        git(project, "add", "-A")
        git(project, "commit", "-q", "-m", "webapp")
        print(
            f"$ shipyard ship --to production   (a fresh git repository of {APP.relative_to(REPO)})"
        )
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "shipyard", "ship", "--to", "production"],
            cwd=project,
            env=env,
            check=False,
        )
    print()
    if done.returncode != 0:
        print(f"The ship stopped (exit status {done.returncode}); the log is {home / 'server.log'}")
        return done.returncode
    print(f"Shipped in {time.monotonic() - started:.1f}s: open the URLs above.")
    print("History: SHIPYARD_HOME=.shipyard-home .venv/bin/shipyard deploys production")
    print(
        "Stop everything (server, router, app): SHIPYARD_HOME=.shipyard-home "
        ".venv/bin/shipyard server stop"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
