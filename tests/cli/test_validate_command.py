"""``shipyard validate``: exact output and exit status, run as a person runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

GOOD = """\
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: make
  test:
    needs: build
    runs-on: ubuntu-latest
    steps:
      - run: make test
"""

BAD = """\
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: make
  test:
    needs: biuld
    runs-on: ubuntu-latest
    steps:
      - run: make test
        uses: actions/checkout@v4
"""


def validate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shipyard", "validate", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(GOOD, encoding="utf-8")
    (tmp_path / ".shipyard" / "workflows").mkdir(parents=True)
    (tmp_path / ".shipyard" / "workflows" / "local.yaml").write_text(
        GOOD.replace("  test:\n", "  other:\n"), encoding="utf-8"
    )
    return tmp_path


def test_valid_repository_exits_zero_with_a_summary(repo: Path) -> None:
    done = validate(cwd=repo)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (
        "ok: .github/workflows/ci.yml (2 jobs)\n"
        "ok: .shipyard/workflows/local.yaml (2 jobs)\n"
        "ok: 2 workflows, 4 jobs\n"
    )


def test_one_file(repo: Path) -> None:
    done = validate(".github/workflows/ci.yml", cwd=repo)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == "ok: .github/workflows/ci.yml (2 jobs)\nok: 1 workflow, 2 jobs\n"


def test_a_directory_of_workflow_files(repo: Path) -> None:
    done = validate(".shipyard/workflows", cwd=repo)
    assert done.returncode == 0
    assert done.stdout == "ok: .shipyard/workflows/local.yaml (2 jobs)\nok: 1 workflow, 2 jobs\n"


def test_a_repository_given_by_path(repo: Path, tmp_path: Path) -> None:
    done = validate(str(repo), cwd=tmp_path.parent)
    assert done.returncode == 0
    assert done.stdout.endswith("ok: 2 workflows, 4 jobs\n")


def test_invalid_workflow_exits_one_with_every_error(repo: Path) -> None:
    (repo / ".github" / "workflows" / "ci.yml").write_text(BAD, encoding="utf-8")
    done = validate(cwd=repo)
    assert done.returncode == 1
    assert done.stdout == "ok: .shipyard/workflows/local.yaml (2 jobs)\n"
    assert done.stderr == (
        ".github/workflows/ci.yml:8:12: jobs.test.needs: unknown job `biuld`\n"
        "  hint: did you mean `build`?\n"
        ".github/workflows/ci.yml:12:9: jobs.test.steps[0].uses: "
        "a step cannot have both `run` and `uses`\n"
        "  hint: split it into two steps\n"
        "2 errors\n"
        "1 of 2 workflows invalid\n"
    )
    assert "Traceback" not in done.stderr


def test_yaml_syntax_error_exits_one(repo: Path) -> None:
    (repo / ".github" / "workflows" / "ci.yml").write_text("on: push\njobs: [\n", encoding="utf-8")
    done = validate(".github/workflows/ci.yml", cwd=repo)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        ".github/workflows/ci.yml:3:1: invalid YAML: expected a value here\n"
        "  hint: check for a stray `,`, `]` or `}`, or quote the value\n"
        "1 of 1 workflow invalid\n"
    )


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    done = validate("nope.yml", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "error: no such file or directory: nope.yml\n"
        "  hint: give a workflow file, or a repository containing .github/workflows\n"
    )


def test_other_yaml_files_of_a_repository_are_not_workflows(repo: Path) -> None:
    (repo / "mkdocs.yml").write_text("site_name: docs\n", encoding="utf-8")
    done = validate(cwd=repo)
    assert done.returncode == 0
    assert done.stdout.endswith("ok: 2 workflows, 4 jobs\n")


def test_directory_without_workflows_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "mkdocs.yml").write_text("site_name: docs\n", encoding="utf-8")
    done = validate(cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "error: no workflow files found in .\n"
        "  hint: workflows are *.yml or *.yaml files in .github/workflows/, "
        ".shipyard/workflows/\n"
    )
