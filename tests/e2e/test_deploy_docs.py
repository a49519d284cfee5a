"""docs/deploy.md's worked example runs as written: its shipyard.yaml, its session command by
command, and the dry run's exact output (release ids aside)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.e2e.conftest import git
from tests.server.harness import cleanup, free_port, shipyard, webapp_repo

pytestmark = pytest.mark.slow
RELEASE_ID = re.compile(r"\b[0-9a-f]{12}\b")


def block(kind: str, name: str) -> str:
    text = (REPO_ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    found = re.search(rf"<!-- {kind}: {name} -->\n```[a-z]*\n(.*?)```", text, flags=re.DOTALL)
    assert found is not None, f"docs/deploy.md has no {kind} block named {name}"
    return found.group(1)


def test_the_worked_example(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    project = block("example", "project")
    project = project.replace("port: 8081", f"port: {free_port()}")
    project = project.replace("port: 8080", f"port: {free_port()}")
    repo = webapp_repo(tmp_path / "repo", project)
    outputs = []
    with cleanup(home):
        for line in block("example", "session").splitlines():
            command = shlex.split(line.split("  #", 1)[0])
            if command[0] == "git":
                git(repo, *command[1:])
                continue
            assert command[0] == "shipyard"
            done = shipyard(*command[1:], cwd=repo, home=home)
            assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
            outputs.append((command[1:], done.stdout))
    said: dict[str, str] = {}
    for args, out in outputs:  # a command run twice: "deploy production#2"
        key = " ".join(args)
        said[key if key not in said else f"{key}#2"] = out
    assert "waiting for approval: `shipyard approve 2`" in said["deploy production"]
    assert "deploy 2 succeeded" in said["approve 2"]
    assert "waiting for approval: `shipyard approve 5`" in said["deploy production#2"]
    assert "10% of the traffic on the new release" in said["approve 5"]
    assert "paused at 50%" in said["approve 5"]
    assert "deploy 5 succeeded" in said["promote production"]
    expected = RELEASE_ID.sub("ID", block("output", "dry-run"))
    assert RELEASE_ID.sub("ID", said["deploy staging --dry-run"]) == expected
    assert "route 100% of the traffic to the new release" in said["rollback staging"]
    history = said["deploys staging"].splitlines()
    assert [row.split()[:2] for row in history[1:]] == [
        ["4", "rollback"],
        ["3", "deploy"],
        ["1", "deploy"],
    ]
