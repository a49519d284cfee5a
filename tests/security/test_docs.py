"""docs/security.md stays true: its worked example runs as written, its numbers are the code's."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from shipyard.security import interface, secret_rules
from tests.conftest import REPO_ROOT

DOC = REPO_ROOT / "docs" / "security.md"
_TIMES = re.compile(r"\d+\.\d\d s\b")


def _example() -> str:
    return DOC.read_text(encoding="utf-8").split("## Worked example", 1)[1]


def test_the_worked_example_runs_as_written(tmp_path: Path) -> None:
    section = _example()
    files = re.findall(r"\n`([^`\n]+)`:\n\n```\w*\n(.*?)```", section, flags=re.DOTALL)
    assert [name for name, _ in files] == [
        "shop/app.py", "shop/requirements.txt", "shop/.github/workflows/ci.yml",
        "advisories/EXAMPLE-2024-1.json",
    ]  # fmt: skip
    for name, text in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    sessions = re.findall(r"```console\n(.*?)```", section, flags=re.DOTALL)
    commands: list[tuple[str, str]] = []
    for session in sessions:
        for chunk in re.split(r"^\$ ", session, flags=re.MULTILINE)[1:]:
            command, _, output = chunk.partition("\n")
            commands.append((command, output))
    assert len(commands) == 3
    statuses = []
    environment = {k: v for k, v in os.environ.items() if k != "SHIPYARD_OSV_DB"}
    for command, expected in commands:
        argv = shlex.split(command)
        assert argv[0] == "shipyard"
        done = subprocess.run(
            [sys.executable, "-m", "shipyard", *argv[1:]], cwd=tmp_path, capture_output=True,
            text=True, timeout=120, check=False,
            env={**environment, "SHIPYARD_HOME": str(tmp_path / "home")},
        )  # fmt: skip
        assert done.stderr == ""
        assert _TIMES.sub("0.00 s", done.stdout) == _TIMES.sub("0.00 s", expected)
        statuses.append(done.returncode)
    assert statuses == [1, 0, 0]
    (run_sast, run_dependencies, run_workflows) = json.loads(
        (tmp_path / "report.sarif").read_text(encoding="utf-8")
    )["runs"]
    results = [*run_sast["results"], *run_dependencies["results"], *run_workflows["results"]]
    assert len(results) == 5
    baselined = [{"kind": "external", "justification": "recorded in the security baseline"}]
    assert all(result["suppressions"] == baselined for result in results)


def test_the_documented_numbers_are_the_code_s() -> None:
    text = " ".join(DOC.read_text(encoding="utf-8").split())
    assert f"{len(secret_rules.RULES)} rules:" in text
    context = interface.ScanContext(root=Path())
    assert f"At most {context.dast_max_requests} requests and" in text
    assert f"{context.dast_time_budget:g} seconds are spent" in text
    for name in interface.DEFAULT_EXCLUDES:
        assert f"`{name}`" in text
