"""docs/flags.md's worked example runs exactly as written: its files, its commands and their
output (a ``...`` in a shown line stands for what differs from run to run)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from tests.conftest import REPO_ROOT
from tests.server.harness import cleanup, shipyard

DOC = (REPO_ROOT / "docs" / "flags.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC, flags=re.DOTALL)


def _matches(expected: str, actual: str) -> bool:
    if "..." not in expected:
        return expected == actual
    head, _, tail = expected.partition("...")
    return actual.startswith(head) and actual.endswith(tail)


def _sessions() -> list[tuple[list[str], list[str]]]:
    steps: list[tuple[list[str], list[str]]] = []
    for block in _blocks("console"):
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append((shlex.split(line[2:]), []))
            else:
                steps[-1][1].append(line)
    return steps


def test_the_worked_example(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "flags.json").write_text(_blocks("json")[0])
    (project / "shipyard.yaml").write_text(_blocks("yaml")[0])
    home = tmp_path / "home"
    home.mkdir()
    steps = _sessions()
    assert len(steps) >= 10
    with cleanup(home):
        for argv, expected in steps:
            assert argv[0] == "shipyard"
            done = shipyard(*argv[1:], cwd=project, home=home)
            assert done.returncode == 0, (argv, done.stderr)
            lines = done.stdout.splitlines()
            assert len(lines) == len(expected), (argv, done.stdout)
            for want, got in zip(expected, lines, strict=True):
                assert _matches(want, got), (argv, want, got)
