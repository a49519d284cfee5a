from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
