"""`make demo`: run the bundled example's CI workflow with Shipyard and show the result.

The example app lives in examples/webapp/ inside Shipyard's own repository; a workflow expects
to be the root of its repository, so the demo copies the app into a fresh git repository first
(in a temporary directory) and runs `shipyard run` there, as a developer would in their own
project. Logs and the JSON report stay in .shipyard-home/ for a look afterwards.
"""

from __future__ import annotations

import json
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
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".venv", "dist", "build")


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
    with tempfile.TemporaryDirectory(prefix="shipyard-demo-") as scratch:
        project = Path(scratch) / "webapp"
        shutil.copytree(APP, project, ignore=IGNORED)
        git(project, "init", "-q", "-b", "main")
        git(project, "add", "-A")
        git(project, "commit", "-q", "-m", "webapp")
        print(f"$ shipyard run  (in a fresh git repository of {APP.relative_to(REPO)})")
        started = time.monotonic()
        report_file = Path(scratch) / "report.json"
        with report_file.open("w") as out:
            done = subprocess.run(
                [sys.executable, "-m", "shipyard", "run", "--json"],
                cwd=project,
                env={**os.environ, "SHIPYARD_HOME": str(home)},
                stdout=out,
                check=False,
            )
        elapsed = time.monotonic() - started
        if done.returncode == 2:
            return 2
        report = json.loads(report_file.read_text())
    print()
    print(f"Workflow {report['workflow']}: {report['conclusion']} in {elapsed:.1f}s")
    for job in report["jobs"]:
        outputs = ", ".join(f"{k}={v}" for k, v in job["outputs"].items())
        extra = f"  outputs: {outputs}" if outputs else ""
        print(f"  {job['conclusion']:<9} {job['name']} ({job.get('duration', 0):.1f}s){extra}")
    print(f"Logs and report: {report['run_dir']}")
    return 0 if report["conclusion"] == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
