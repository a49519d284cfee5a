from __future__ import annotations

import subprocess
import sys

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
