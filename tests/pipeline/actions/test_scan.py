"""Built-in ``shipyard/scan``: the security gate as a step, run for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shipyard.pipeline.actions import interface, scan
from tests.pipeline.actions.conftest import Harness, git

TOKEN = "ghp_" + "Yt7Kq2Vn9Xw4Lz6Rb1Mc8Pd3Fs5Gh0Jk2Aw"


def _workspace(harness: Harness, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = harness.workspace / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_a_clean_workspace_passes_and_names_the_sarif_file(harness: Harness) -> None:
    _workspace(harness, {"app.py": "print('hello')\n"})
    io = harness.run(scan.Scan(), {"scanners": "secrets, sast"})
    report = harness.temp / "shipyard-scan.sarif"
    assert io.outputs == {"exit-code": "0", "sarif-file": str(report)}
    runs = json.loads(report.read_text(encoding="utf-8"))["runs"]
    assert [run["properties"]["scanner"] for run in runs] == ["sast", "secrets"]
    assert "security gate passed: no findings" in io.text


def test_findings_fail_the_step_unless_fail_is_false(harness: Harness) -> None:
    _workspace(harness, {"deploy.sh": f"export GH_TOKEN={TOKEN}\n"})
    with pytest.raises(interface.ActionFailed) as failed:
        harness.run(scan.Scan(), {"scanners": "secrets", "output": "reports/scan.sarif"})
    assert failed.value.message == (
        "security gate: findings at or above the threshold fail the security policy"
    )
    assert (harness.workspace / "reports" / "scan.sarif").is_file()
    io = harness.run(scan.Scan(), {"scanners": "secrets", "fail": "false"})
    assert io.outputs["exit-code"] == "1"
    assert io.warnings == [
        "security gate: findings at or above the threshold fail the security policy "
        "(fail: false, so the step passes)"
    ]
    assert TOKEN not in io.text


def test_a_bad_input_fails_with_the_scan_s_own_message(harness: Harness) -> None:
    with pytest.raises(interface.ActionFailed, match="settings or command line are invalid"):
        harness.run(scan.Scan(), {"fail-on": "severe"})


def test_the_command_line_follows_the_inputs(harness: Harness) -> None:
    call = harness.call("shipyard/scan@v1", {
        "path": "svc", "fail-on": "medium", "scanners": "secrets\ndependencies", "history": "true",
        "strict": "true", "osv-db": "/data/osv", "baseline": "b.json",
    })  # fmt: skip
    assert scan.command(call)[3:] == [
        "scan", str(harness.workspace / "svc"), "--format", "sarif",
        "--output", str(harness.temp / "shipyard-scan.sarif"), "--fail-on", "medium",
        "--osv-db", "/data/osv", "--baseline", "b.json", "--scanner", "secrets",
        "--scanner", "dependencies", "--history", "--strict",
    ]  # fmt: skip


def test_a_workflow_step_uses_shipyard_scan(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "ci.yml").write_text(
        "on: push\npermissions: {contents: read}\njobs:\n  security:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - uses: actions/checkout@v4\n      - id: scan\n"
        "        uses: shipyard/scan@v1\n        with: {scanners: 'secrets workflows'}\n"
        "      - run: test -s '${{ steps.scan.outputs.sarif-file }}'\n",
        encoding="utf-8",
    )
    (repo / "config.env").write_text(f"TOKEN={TOKEN}\n", encoding="utf-8")
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", "ci")
    done = subprocess.run(
        [sys.executable, "-m", "shipyard", "run", "-C", str(repo), "--no-cache"],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "SHIPYARD_HOME": str(tmp_path / "home")},
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "security gate: findings at or above the threshold fail the security policy" in output
    assert TOKEN not in output
    (repo / "config.env").write_text("TOKEN=${TOKEN}\n", encoding="utf-8")
    git(repo, "commit", "--quiet", "--all", "--message", "no token")
    passed = subprocess.run(
        [sys.executable, "-m", "shipyard", "run", "-C", str(repo), "--no-cache"],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "SHIPYARD_HOME": str(tmp_path / "home")},
    )  # fmt: skip
    assert passed.returncode == 0, passed.stdout + passed.stderr
