"""End-to-end: masking, workflow commands, timeouts, Ctrl-C and orphan processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.conftest import shipyard
from tests.procs import processes_with

SECRET = "s3cr3t-Value-91"

MASKING = """
on: push
jobs:
  leak:
    runs-on: ubuntu-latest
    outputs:
      leaked: ${{ steps.out.outputs.value }}
    steps:
      - run: |
          echo "direct ${{ secrets.API_KEY }}"
          echo "env $API_KEY"
          printf 's3cr3t'; sleep 0.3; printf -- '-Value-91 split across writes\\n'
          echo "::add-mask::dynamic-mask-me"
          echo "later dynamic-mask-me here"
          echo "::error file=app.py,line=3,col=5,title=Bad::broken $API_KEY"
          echo "::warning::careful"
          echo "::group::Details"
          echo "inside group"
          echo "::endgroup::"
          echo "::stop-commands::pause-token"
          echo "::error::not a command now"
          echo "::pause-token::"
          echo "::notice::commands again"
          printf 'no newline at end s3cr3t-Value-91'
        env:
          API_KEY: ${{ secrets.API_KEY }}
      - id: out
        run: echo "value=$API_KEY" >> "$GITHUB_OUTPUT"
        env:
          API_KEY: ${{ secrets.API_KEY }}
"""


def _all_files_text(root: Path) -> str:
    chunks = []
    for path in root.rglob("*"):
        if path.is_file():
            chunks.append(path.read_bytes().decode("utf-8", errors="replace"))
    return "\n".join(chunks)


def test_secrets_never_reach_terminal_files_or_report(repo, home: Path) -> None:
    root = repo({".github/workflows/m.yml": MASKING})
    done = shipyard("run", "--json", "--secret", f"API_KEY={SECRET}", cwd=root, home=home)
    assert done.returncode == 0, done.stderr
    for text in (done.stdout, done.stderr, _all_files_text(home)):
        assert SECRET not in text
        assert "dynamic-mask-me" not in text
    assert "direct ***" in done.stderr
    assert "*** split across writes" in done.stderr
    assert "later *** here" in done.stderr
    assert "no newline at end ***" in done.stderr
    assert "::error::not a command now" in done.stderr
    job = done.job("leak")
    annotations = [(a["level"], a["message"]) for a in job["annotations"]]
    assert ("error", "broken ***") in annotations
    assert ("warning", "careful") in annotations
    assert ("notice", "commands again") in annotations
    assert ("error", "not a command now") not in annotations
    error = next(a for a in job["annotations"] if a["level"] == "error")
    assert (error["file"], error["line"], error["column"], error["title"]) == (
        "app.py",
        3,
        5,
        "Bad",
    )
    assert job["outputs"] == {}
    assert ("warning", "Skip output 'leaked' since it may contain secret.") in annotations


TIMEOUTS = """
on: push
jobs:
  step-timeout:
    runs-on: ubuntu-latest
    steps:
      - run: sleep 30
        timeout-minutes: 0.02
      - if: always()
        run: echo cleanup ran
  job-timeout:
    runs-on: ubuntu-latest
    timeout-minutes: 0.03
    steps:
      - run: sleep 30
      - run: echo not reached
      - if: always()
        run: echo job cleanup ran
"""


def test_timeouts_kill_the_step_and_still_run_always_steps(repo, home: Path) -> None:
    root = repo({".github/workflows/t.yml": TIMEOUTS})
    started = time.monotonic()
    done = shipyard("run", "--json", cwd=root, home=home)
    assert time.monotonic() - started < 20
    assert done.returncode == 1
    step_job = done.job("step-timeout")
    assert [s["conclusion"] for s in step_job["steps"]] == ["failure", "success"]
    assert any("has timed out after 0.02 minutes" in a["message"] for a in step_job["annotations"])
    job = done.job("job-timeout")
    assert job["conclusion"] == "failure"
    assert [s["conclusion"] for s in job["steps"]] == ["cancelled", "skipped", "success"]
    assert "job cleanup ran" in done.stderr
    assert any(
        "exceeded the maximum execution time of 0.03 minutes" in a["message"]
        for a in job["annotations"]
    )


CANCEL = """
on: push
jobs:
  long:
    runs-on: ubuntu-latest
    steps:
      - run: |
          (exec -a orphan-marker-{token} sleep 300) &
          setsid bash -c 'exec -a setsid-marker-{token} sleep 301' &
          touch "{ready}"
          sleep 300
      - run: echo not reached
      - if: always()
        run: echo "always ran after cancel"
      - if: cancelled()
        run: echo "cancelled() is true"
"""


def test_ctrl_c_cancels_runs_always_steps_and_leaves_no_orphans(
    repo, home: Path, tmp_path: Path
) -> None:
    token = str(os.getpid())
    ready = tmp_path / "ready"
    root = repo({".github/workflows/c.yml": CANCEL.format(token=token, ready=ready)})
    child = subprocess.Popen(
        [sys.executable, "-m", "shipyard", "run", "--json"],
        cwd=root,
        env={**os.environ, "SHIPYARD_HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert time.monotonic() < deadline, "the step never started"
            assert child.poll() is None, child.communicate()
            time.sleep(0.05)
        assert processes_with(f"orphan-marker-{token}")
        assert processes_with(f"setsid-marker-{token}")
        child.send_signal(signal.SIGINT)
        stdout, stderr = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 1
    report = json.loads(stdout)
    assert report["conclusion"] == "cancelled"
    steps = [(s["outcome"]) for s in report["jobs"][0]["steps"]]
    assert steps == ["cancelled", "skipped", "success", "success"]
    assert "always ran after cancel" in stderr
    assert "cancelled() is true" in stderr
    assert processes_with(f"orphan-marker-{token}") == []
    assert processes_with(f"setsid-marker-{token}") == []


FAIL_FAST = """
on: push
jobs:
  matrix:
    runs-on: ubuntu-latest
    strategy:
      max-parallel: 2
      matrix:
        n: [1, 2, 3]
    steps:
      - run: |
          if [ "${{ matrix.n }}" = 1 ]; then exit 1; fi
          sleep 20
"""


def test_fail_fast_cancels_the_other_combinations(repo, home: Path) -> None:
    root = repo({".github/workflows/ff.yml": FAIL_FAST})
    started = time.monotonic()
    done = shipyard("run", "--json", cwd=root, home=home)
    assert time.monotonic() - started < 15
    assert done.returncode == 1
    conclusions = {job["key"]: job["conclusion"] for job in done.report["jobs"]}
    assert conclusions == {
        "matrix (1)": "failure",
        "matrix (2)": "cancelled",
        "matrix (3)": "cancelled",
    }
