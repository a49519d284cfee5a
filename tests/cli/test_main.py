from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import shipyard


def test_version_prints_and_exits_zero() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "shipyard", "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert done.stdout.strip() == f"shipyard, version {shipyard.__version__}"


def test_unknown_command_is_a_usage_error_without_traceback() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "shipyard", "deploi"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert "No such command 'deploi'" in done.stderr
    assert "Traceback" not in done.stderr


def shipyard_cli(*args: str, cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shipyard", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )


def test_version_without_click_says_what_click_says() -> None:
    fast = shipyard_cli("-V")
    through_click = shipyard_cli("--version", "run")  # not the exact fast-path argv
    assert fast.returncode == through_click.returncode == 0
    assert fast.stdout == through_click.stdout


def test_the_fast_paths_do_not_import_click() -> None:
    probe = (
        "import sys; sys.argv = ['shipyard', '--version']\n"
        "from shipyard.cli import main; main.main()\n"
        "print('click loaded:', 'click' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "click loaded: False"


def test_run_list_is_the_same_with_and_without_click(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(
        "name: CI\non: [push]\njobs:\n"
        "  a:\n    runs-on: ubuntu-latest\n    steps: [{run: 'true'}]\n"
        "  b:\n    needs: a\n    runs-on: ubuntu-latest\n    steps: [{run: 'true'}]\n"
    )
    (workflows / "broken.yml").write_text("on: [push\njobs: {\n")  # not YAML
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    fast = shipyard_cli("run", "--list", cwd=str(tmp_path))
    through_click = shipyard_cli("run", "--list", "-C", ".", cwd=str(tmp_path))
    assert fast.returncode == through_click.returncode == 0
    assert fast.stdout == through_click.stdout
    assert ".github/workflows/ci.yml  CI  (on: push)" in fast.stdout
    assert "  b  [needs a]" in fast.stdout
    assert "broken.yml  (invalid:" in fast.stdout


RUN_LINES = [
    [],
    ["ci.yml"],
    ["--json"],
    ["ci.yml", "--json", "--jobs", "4"],
    ["--jobs=3", "ci", "--no-cache"],
    ["-C", "repo", "--event", "pull_request", "--ref=main"],
    ["--input", "a=1", "--input=b=2", "--job", "test", "--matrix", "py=3.12"],
    ["--secret", "TOKEN=abc", "--secret-file", "s.env", "--var", "X=1", "--env-file", "e.env"],
    ["--label-map", "gpu=ubuntu-latest", "--environment", "staging", "--dry-run", "--list"],
    ["--explain-cache", "--event-path", "event.json", "--directory", "."],
    ["--", "workflow"],  # click's end of options
    ["-"],
]


@pytest.mark.parametrize("args", RUN_LINES, ids=lambda args: " ".join(args) or "nothing")
def test_run_arguments_parse_as_click_parses_them(args: list[str]) -> None:
    from shipyard.cli import run_command

    expected = run_command.run.make_context("run", list(args)).params
    parsed = run_command.parse(args)
    if args[:1] == ["--"]:
        assert parsed is None  # not handled here: click takes it
    else:
        assert parsed == expected


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["-h"],
        ["--jobs", "0"],
        ["--jobs", "two"],
        ["--jobs"],
        ["--json=yes"],
        ["--jobz", "2"],
        ["a.yml", "b.yml"],
        ["-Crepo"],
        ["--event", "--json"],
    ],
    ids=" ".join,
)
def test_unusual_run_arguments_are_left_to_click(args: list[str]) -> None:
    from shipyard.cli import run_command

    assert run_command.parse(args) is None


def test_run_mistakes_are_explained_by_click(tmp_path: Path) -> None:
    done = shipyard_cli("run", "--jobs", "0", cwd=str(tmp_path))
    assert done.returncode == 2
    assert "Invalid value for '--jobs': 0 is not in the range x>=1." in done.stderr
    done = shipyard_cli("run", "--jobz", "2", cwd=str(tmp_path))
    assert done.returncode == 2
    assert "No such option '--jobz'. (Did you mean one of: '--job', '--jobs'" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_run_does_not_import_click(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(
        "on: [push]\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps: [{run: echo hi}]\n"
    )
    for git in (["init", "-q"], ["add", "."], ["commit", "-qm", "ci"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *git],
            cwd=tmp_path,
            check=True,
        )
    probe = (
        "import sys; sys.argv = ['shipyard', 'run', '--json', '--no-cache']\n"
        "from shipyard.cli import main\n"
        "try:\n    main.main()\n"
        "finally:\n    print('click loaded:', 'click' in sys.modules, file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "SHIPYARD_HOME": str(tmp_path / "home")},
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["conclusion"] == "success"
    assert done.stderr.splitlines()[-1] == "click loaded: False"
