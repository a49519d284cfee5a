"""The worked examples in docs/ run exactly as written."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import REPO_ROOT
from tests.e2e.conftest import shipyard


def _blocks(doc: str, language: str) -> list[str]:
    text = (REPO_ROOT / "docs" / doc).read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def test_running_md_worked_example(repo, home: Path) -> None:
    workflow = _blocks("running.md", "yaml")[0]
    assert workflow.startswith("# .github/workflows/ci.yml\n")
    root = repo({".github/workflows/ci.yml": workflow})
    done = shipyard("run", "--json", cwd=root, home=home)
    assert done.returncode == 0, done.stderr
    report = done.report
    assert report["conclusion"] == "success"
    summary = [(j["id"], j["name"], j["matrix"], j["conclusion"]) for j in report["jobs"]]
    assert summary == [
        ("version", "version", None, "success"),
        ("test", "test (1)", {"shard": 1}, "success"),
        ("test", "test (2)", {"shard": 2}, "success"),
        ("publish", "publish", None, "success"),
    ]
    version = report["jobs"][0]
    assert version["outputs"] == {"version": "1.4.0"}
    assert [
        {k: s[k] for k in ("id", "name", "outcome", "conclusion")} for s in version["steps"]
    ] == [
        {
            "id": "read",
            "name": 'Run echo "version=1.4.0" >> "$GITHUB_OUTPUT"',
            "outcome": "success",
            "conclusion": "success",
        }
    ]
    assert "publishing 1.4.0" in done.stderr
