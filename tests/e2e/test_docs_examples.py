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


def test_job_cache_md_worked_example(repo, home: Path) -> None:
    from tests.e2e.conftest import git

    workflow = _blocks("job-cache.md", "yaml")[0]
    root = repo(
        {".github/workflows/ci.yml": workflow, "src/app.txt": "app\n", "docs/index.md": "a\n"}
    )
    first = shipyard("run", "--json", cwd=root, home=home)
    assert first.returncode == 0, first.stderr
    assert [j["cached"] for j in first.report["jobs"]] == [False, False]
    second = shipyard("run", "--json", cwd=root, home=home)
    assert "replaying run" in second.stderr
    assert [j["cached"] for j in second.report["jobs"]] == [True, True]
    (root / "docs" / "index.md").write_text("b\n")
    git(root, "commit", "-qam", "docs")
    third = shipyard("run", "--json", "--explain-cache", cwd=root, home=home)
    assert third.returncode == 0, third.stderr
    assert {j["key"]: j["cached"] for j in third.report["jobs"]} == {"build": False, "test": True}
    assert "[build]   job cache miss: the files it can see changed" in third.stderr
