"""docs/cache.md's worked example: the program and the commands print what the page shows."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

DOC = REPO_ROOT / "docs" / "cache.md"
TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
SHOWN_HOME = "/home/me"


def block(name: str, kind: str) -> str:
    """The fenced block that follows ``<!-- kind: name -->`` in the page."""
    text = DOC.read_text(encoding="utf-8")
    found = re.search(rf"<!-- {kind}: {name} -->\n```\w*\n(.*?)```", text, re.DOTALL)
    assert found is not None, f"docs/cache.md has no {kind} block named {name}"
    return found.group(1)


def test_the_worked_example_runs_as_shown(tmp_path: Path) -> None:
    home = tmp_path / "home" / "me"
    home.mkdir(parents=True)
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("SHIPYARD_HOME", "XDG_DATA_HOME")}
    env |= {"HOME": str(home), "SHIPYARD_CACHE_MAX_SIZE": "10G"}
    done = subprocess.run(
        [sys.executable, "-c", block("program", "example")],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == block("program", "output")

    session = block("commands", "example")
    commands = re.findall(r"^\$ (.*)$", session, flags=re.MULTILINE)
    shown = re.split(r"^\$ .*\n", session, flags=re.MULTILINE)[1:]
    for command, expected in zip(commands, shown, strict=True):
        ran = subprocess.run(
            [sys.executable, "-m", "shipyard", *shlex.split(command)[1:]],
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        output = (ran.stdout + ran.stderr).replace(str(home), SHOWN_HOME)
        assert TIME.sub("<time>", output) == TIME.sub("<time>", expected), command
