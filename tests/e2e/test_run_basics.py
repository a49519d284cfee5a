"""End-to-end: jobs, needs, outputs, matrix, conditions and the step environment."""

from __future__ import annotations

import os
import re
from pathlib import Path

from tests.e2e.conftest import git, shipyard

PIPELINE = """
name: CI
on: [push, workflow_dispatch]
env:
  LEVEL: workflow
  SHARED: from-workflow
jobs:
  build:
    runs-on: ubuntu-latest
    env:
      LEVEL: job
    outputs:
      version: ${{ steps.v.outputs.version }}
      greeting: ${{ steps.v.outputs.greeting }}
    steps:
      - id: v
        run: |
          echo "version=1.2.3" >> "$GITHUB_OUTPUT"
          {
            echo "greeting<<EOF"
            echo "hello"
            echo "world"
            echo "EOF"
          } >> "$GITHUB_OUTPUT"
      - run: echo "level=$LEVEL shared=$SHARED ci=$CI os=$RUNNER_OS"
        env:
          LEVEL: step
  test:
    needs: build
    runs-on: ubuntu-latest
    strategy:
      matrix:
        python: ['3.11', '3.12']
        os: [linux]
        include:
          - python: '3.12'
            extra: yes
    steps:
      - run: echo "py=${{ matrix.python }} extra=${{ matrix.extra }} v=${{ needs.build.outputs.version }}"
      - run: test "${{ strategy.job-total }}" = 2
  report:
    needs: [build, test]
    if: always()
    runs-on: ubuntu-latest
    steps:
      - run: echo "results ${{ needs.build.result }} ${{ needs.test.result }}"
"""


def test_jobs_run_in_dependency_order_with_outputs_and_matrix(repo, home: Path) -> None:
    root = repo({".github/workflows/ci.yml": PIPELINE})
    done = shipyard("run", "--json", cwd=root, home=home)
    assert done.returncode == 0, done.stderr
    report = done.report
    assert report["conclusion"] == "success"
    assert [job["key"] for job in report["jobs"]] == [
        "build",
        "test (3.11, linux)",
        "test (3.12, linux, yes)",
        "report",
    ]
    build = done.job("build")
    assert build["outputs"] == {"version": "1.2.3", "greeting": "hello\nworld"}
    assert done.job("test (3.12, linux, yes)")["matrix"] == {
        "python": "3.12",
        "os": "linux",
        "extra": "yes",
    }
    assert "level=step shared=from-workflow ci=true os=Linux" in done.stderr
    assert "py=3.11 extra= v=1.2.3" in done.stderr
    assert "results success success" in done.stderr


FAILING = """
on: push
jobs:
  one:
    runs-on: ubuntu-latest
    steps:
      - id: ok
        run: echo fine
      - id: tolerated
        run: exit 3
        continue-on-error: true
      - id: broken
        run: exit 1
      - id: after
        run: echo should not run
      - id: on-failure
        if: failure()
        run: echo cleaning up after ${{ steps.broken.outcome }}
      - if: always()
        run: echo always ${{ steps.tolerated.outcome }} ${{ steps.tolerated.conclusion }}
  dependent:
    needs: one
    runs-on: ubuntu-latest
    steps:
      - run: echo never
  notifier:
    needs: one
    if: failure()
    runs-on: ubuntu-latest
    steps:
      - run: echo "one failed"
"""


def test_failure_rules_for_steps_and_jobs(repo, home: Path) -> None:
    root = repo({".github/workflows/f.yml": FAILING})
    done = shipyard("run", "--json", cwd=root, home=home)
    assert done.returncode == 1
    assert done.report["conclusion"] == "failure"
    assert done.steps("one") == [
        ("Run echo fine", "success"),
        ("Run exit 3", "success"),
        ("Run exit 1", "failure"),
        ("Run echo should not run", "skipped"),
        ("Run echo cleaning up after ${{ steps.broken.outcome }}", "success"),
        (
            "Run echo always ${{ steps.tolerated.outcome }} ${{ steps.tolerated.conclusion }}",
            "success",
        ),
    ]
    tolerated = done.job("one")["steps"][1]
    assert (tolerated["outcome"], tolerated["conclusion"]) == ("failure", "success")
    assert "cleaning up after failure" in done.stderr
    assert "always failure success" in done.stderr
    assert done.job("dependent")["conclusion"] == "skipped"
    assert done.job("notifier")["conclusion"] == "success"


ENVIRONMENT = """
on: push
env:
  FROM_WORKFLOW: w
jobs:
  env:
    runs-on: ubuntu-latest
    steps:
      - run: |
          mkdir -p "$RUNNER_TEMP/tools"
          printf '#!/bin/sh\\necho tool-ran\\n' > "$RUNNER_TEMP/tools/mytool"
          chmod +x "$RUNNER_TEMP/tools/mytool"
          echo "$RUNNER_TEMP/tools" >> "$GITHUB_PATH"
          echo "EXPORTED=exported-value" >> "$GITHUB_ENV"
          echo "## Summary title" >> "$GITHUB_STEP_SUMMARY"
      - run: |
          mytool
          echo "exported=$EXPORTED ctx=${{ env.EXPORTED }} wf=${{ env.FROM_WORKFLOW }}"
          test "$GITHUB_SHA" = "${{ github.sha }}"
          test "$GITHUB_WORKSPACE" = "$PWD"
          test "$GITHUB_REF" = refs/heads/main
          test -f "$GITHUB_EVENT_PATH"
          test "$GITHUB_EVENT_NAME" = push
          test "$GITHUB_ACTIONS" = true
          echo "job=$GITHUB_JOB"
      - env:
          GITHUB_SHA: not-the-commit
          GITHUB_EXTRA: mine
          RUNNER_OS: Plan9
        run: |
          test "$GITHUB_SHA" = "${{ github.sha }}"
          test "$RUNNER_OS" = Linux
          echo "extra=$GITHUB_EXTRA"
      - run: |
          echo "script-dir=$(dirname "$0") temp=$RUNNER_TEMP mode=$(stat -c %a "$0")"
          files=$(dirname "$GITHUB_OUTPUT")
          echo "files=$files files-mode=$(stat -c %a "$files") output-mode=$(stat -c %a "$GITHUB_OUTPUT")"
      - shell: python
        run: |
          import os
          print("python says", os.environ["FROM_WORKFLOW"])
      - shell: sh
        working-directory: sub
        run: echo "in $(basename "$PWD")"
        continue-on-error: true
      - shell: perl {0}
        run: print "perl too\\n";
"""


def test_step_environment_files_and_shells(repo, home: Path) -> None:
    root = repo({".github/workflows/e.yml": ENVIRONMENT})
    done = shipyard("run", "--json", cwd=root, home=home)
    assert done.returncode == 0, done.stderr
    assert "tool-ran" in done.stderr
    assert "exported=exported-value ctx=exported-value wf=w" in done.stderr
    assert "job=env" in done.stderr
    assert "extra=mine" in done.stderr  # GitHub's defaults stay; other GITHUB_ names pass
    assert "python says w" in done.stderr
    # The rendered script lives in memory when the machine has a memory file system, in a
    # directory of its own that is gone once the run ends.
    found = re.search(r"script-dir=(\S+) temp=(\S+) mode=(\d+)", done.stderr)
    assert found is not None
    assert found.group(3) == "600"  # only the runner's user can read a script
    script_dir, temp = Path(found.group(1)), found.group(2)
    # The step files (GITHUB_OUTPUT, GITHUB_ENV, ...) too, in a directory of the job's.
    files = re.search(r"files=(\S+) files-mode=(\d+) output-mode=(\d+)", done.stderr)
    assert files is not None
    assert files.group(3) == "600"
    files_dir = Path(files.group(1))
    if os.access("/dev/shm", os.W_OK):
        assert script_dir.parent == Path("/dev/shm")
        assert script_dir.name.startswith("shipyard-")
        assert not script_dir.exists()
        assert files_dir.parent == script_dir
        assert files.group(2) == "700"
    else:
        assert str(script_dir) == temp
        assert str(files_dir) == temp
    assert "perl too" in done.stderr
    job = done.job("env")
    assert job["summary"] == "## Summary title\n"
    wd_step = job["steps"][5]
    assert wd_step["outcome"] == "failure"
    assert any("working-directory `sub` does not exist" in a["message"] for a in job["annotations"])
    head = git(root, "rev-parse", "HEAD")
    assert len(head) == 40


def test_list_and_dry_run(repo, home: Path) -> None:
    root = repo({".github/workflows/ci.yml": PIPELINE})
    listed = shipyard("run", "--list", cwd=root, home=home)
    assert listed.returncode == 0
    assert listed.stdout == (
        ".github/workflows/ci.yml  CI  (on: push, workflow_dispatch)\n"
        "  build\n"
        "  test  [needs build; matrix]\n"
        "  report  [needs build, test]\n"
    )
    planned = shipyard("run", "--dry-run", cwd=root, home=home)
    assert planned.returncode == 0
    assert planned.stdout.splitlines() == [
        "CI (.github/workflows/ci.yml) on push",
        "stage 1:",
        "  build",
        "stage 2:",
        "  test (needs build)",
        '    - 3.11, linux  {"python": "3.11", "os": "linux"}',
        '    - 3.12, linux, yes  {"python": "3.12", "os": "linux", "extra": "yes"}',
        "stage 3:",
        "  report (needs build, test)",
    ]
    assert not (home / "runs").exists()


def test_job_and_matrix_selection(repo, home: Path) -> None:
    root = repo({".github/workflows/ci.yml": PIPELINE})
    done = shipyard(
        "run", "--json", "--job", "test", "--matrix", "python=3.12", cwd=root, home=home
    )
    assert done.returncode == 0, done.stderr
    assert [job["key"] for job in done.report["jobs"]] == ["build", "test (3.12, linux, yes)"]
    unknown = shipyard("run", "--job", "tset", cwd=root, home=home)
    assert unknown.returncode == 2
    assert unknown.stderr == (
        "error: --job tset: the workflow has no job `tset`\n  hint: did you mean `test`?\n"
    )


STEP_FILES = """
on: push
jobs:
  first:
    runs-on: ubuntu-latest
    steps:
      - run: echo "secret-ish=1" >> "$GITHUB_OUTPUT"; echo "first=$(dirname "$GITHUB_OUTPUT")"
  second:
    needs: first
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "second=$(dirname "$GITHUB_OUTPUT")"
          echo "listing=$(ls "$(dirname "$(dirname "$GITHUB_OUTPUT")")" | tr '\\n' ,)"
"""


def test_a_jobs_step_files_are_gone_when_the_job_ends(repo, home: Path) -> None:
    root = repo({".github/workflows/f.yml": STEP_FILES})
    done = shipyard("run", "--json", cwd=root, home=home)
    assert done.returncode == 0, done.stderr
    first = re.search(r"first=(/\S+)", done.stderr)
    second = re.search(r"second=(/\S+)", done.stderr)
    listing = re.search(r"listing=([^$\s]\S*)", done.stderr)
    assert first and second and listing
    assert first.group(1) != second.group(1)  # a directory per job
    if Path(first.group(1)).parent == Path(second.group(1)).parent:  # both in memory
        # While the second job runs, the first job's directory is already gone: only the
        # second's (and no script of the first) is left beside the running script.
        names = [name for name in listing.group(1).split(",") if name]
        assert Path(first.group(1)).name not in names
        assert Path(second.group(1)).name in names
    assert not Path(first.group(1)).exists() and not Path(second.group(1)).exists()
