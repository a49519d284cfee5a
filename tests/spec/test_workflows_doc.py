"""docs/workflows.md's worked example: `shipyard validate` prints exactly what the page shows."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

DOC = REPO_ROOT / "docs" / "workflows.md"


def block(name: str, kind: str) -> str:
    """The fenced block that follows ``<!-- kind: name -->`` in the page."""
    text = DOC.read_text(encoding="utf-8")
    found = re.search(rf"<!-- {kind}: {name} -->\n```\w*\n(.*?)```", text, re.DOTALL)
    assert found is not None, f"docs/workflows.md has no {kind} block named {name}"
    return found.group(1)


def test_the_worked_example_prints_what_the_page_shows(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(block("broken", "example"), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "shipyard", "validate"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == block("broken", "output")
