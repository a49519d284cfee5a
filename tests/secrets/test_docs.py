"""docs/secrets.md stays true: its worked example runs and prints what the page shows."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT
from tests.secrets.conftest import Key

DOC = REPO_ROOT / "docs" / "secrets.md"


def block(kind: str, name: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(rf"<!-- {kind}: {name} -->\n```\w*\n(.*?)```", text, re.DOTALL)
    assert found is not None, f"docs/secrets.md has no {kind} block named {name}"
    return found.group(1)


def shipyard(root: Path, alice: Key, command: str) -> str:
    argv = shlex.split(command.removeprefix("$ "))
    assert argv[0] == "shipyard"
    done = subprocess.run(
        [sys.executable, "-m", "shipyard", *argv[1:]],
        cwd=root,
        env={
            **os.environ,
            "SHIPYARD_HOME": str(root / ".home"),
            "SHIPYARD_AGE_KEY_FILE": str(alice.file),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_worked_example_prints_what_the_page_shows(repo: Path, alice: Key) -> None:
    (repo / "shipyard.yaml").write_text(block("example", "project"), encoding="utf-8")
    for line in block("commands", "setup").splitlines():
        shipyard(repo, alice, line)
    for name in ("show", "diff"):
        command, *expected = block("output", name).splitlines()
        assert shipyard(repo, alice, command).splitlines() == expected
