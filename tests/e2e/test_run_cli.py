"""End-to-end: the command line's inputs, secrets, variables, env files and its errors."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.conftest import shipyard

DISPATCH = """
name: Release
on:
  workflow_dispatch:
    inputs:
      level:
        type: choice
        options: [patch, minor, major]
        default: patch
      dry:
        type: boolean
        default: true
      count:
        type: number
        required: true
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: |
          echo "level=${{ inputs.level }} dry=${{ inputs.dry }} count=${{ inputs.count }}"
          echo "event=${{ github.event.inputs.level }} var=${{ vars.REGION }} env=$FROM_FILE"
          echo "secret=${{ secrets.FROM_SECRET_FILE }}"
      - if: inputs.dry
        run: echo "dry run only"
      - run: echo "hash=${{ hashFiles('**/*.txt') }} none=[${{ hashFiles('*.nothing') }}]"
"""


def test_dispatch_inputs_vars_env_file_and_secret_file(repo, home: Path, tmp_path: Path) -> None:
    root = repo({".github/workflows/release.yml": DISPATCH, "data/a.txt": "alpha\n"})
    env_file = tmp_path / "env"
    env_file.write_text("# comment\nexport FROM_FILE='from env file'\n")
    secret_file = tmp_path / "secrets"
    secret_file.write_text('FROM_SECRET_FILE="very-secret-value"\n')
    done = shipyard(
        "run",
        "release",
        "--event",
        "workflow_dispatch",
        "--input",
        "level=minor",
        "--input",
        "count=3",
        "--var",
        "REGION=eu",
        "--env-file",
        str(env_file),
        "--secret-file",
        str(secret_file),
        "--json",
        cwd=root,
        home=home,
    )
    assert done.returncode == 0, done.stderr
    assert "level=minor dry=true count=3" in done.stderr
    assert "event=minor var=eu env=from env file" in done.stderr
    assert "secret=***" in done.stderr
    assert "dry run only" in done.stderr
    assert "none=[]" in done.stderr
    assert re.search(r"hash=[0-9a-f]{64} none=\[\]", done.stderr)


def test_bad_inputs_are_usage_errors(repo, home: Path) -> None:
    root = repo({".github/workflows/release.yml": DISPATCH})
    missing = shipyard("run", "--event", "workflow_dispatch", cwd=root, home=home)
    assert missing.returncode == 2
    assert missing.stderr == (
        "error: --input: input `count` is required\n  hint: pass it with --input count=VALUE\n"
    )
    bad = shipyard(
        "run",
        "--event",
        "workflow_dispatch",
        "--input",
        "count=3",
        "--input",
        "level=huge",
        cwd=root,
        home=home,
    )
    assert bad.returncode == 2
    assert bad.stderr == (
        "error: --input: input `level` must be one of `patch`, `minor`, `major`, got `huge`\n"
    )
    wrong_event = shipyard("run", "release", "--event", "push", cwd=root, home=home)
    assert wrong_event.returncode == 2
    assert "does not run on `push`; it runs on workflow_dispatch" in wrong_event.stderr


def test_invalid_workflow_exits_2_with_location(repo, home: Path) -> None:
    root = repo(
        {
            ".github/workflows/bad.yml": """
                on: push
                jobs:
                  build:
                    runs-on: ubuntu-latest
                    steps:
                      - run: echo hi
                  test:
                    needs: biuld
                    runs-on: ubuntu-latest
                    steps:
                      - run: echo hi
            """
        }
    )
    done = shipyard("run", cwd=root, home=home)
    assert done.returncode == 2
    assert done.stderr.startswith("error: .github/workflows/bad.yml:8:12: jobs.test.needs: ")
    assert "did you mean `build`?" in done.stderr
    assert "Traceback" not in done.stderr


def test_secret_flag_without_value_reads_the_environment(repo, home: Path) -> None:
    root = repo(
        {
            ".github/workflows/s.yml": """
                on: push
                jobs:
                  s:
                    runs-on: ubuntu-latest
                    steps:
                      - run: test "${{ secrets.TOKEN }}" = from-env && echo matched
            """
        }
    )
    done = shipyard("run", "--secret", "TOKEN", cwd=root, home=home, env={"TOKEN": "from-env"})
    assert done.returncode == 0, done.stderr
    assert "matched" in done.stdout
    unset = shipyard("run", "--secret", "NOPE_NOT_SET", cwd=root, home=home)
    assert unset.returncode == 2
    assert "--secret NOPE_NOT_SET: no value given and $NOPE_NOT_SET is not set" in unset.stderr
