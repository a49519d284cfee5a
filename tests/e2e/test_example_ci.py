"""The bundled example's real CI workflow, end to end: checkout, setup-python, matrix, needs,
job outputs and artifacts, exactly what `make demo` shows."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import REPO_ROOT
from tests.e2e.conftest import make_repo, shipyard

APP = REPO_ROOT / "examples" / "webapp"


def test_example_webapp_ci_passes(tmp_path: Path, home: Path) -> None:
    project = tmp_path / "webapp"
    shutil.copytree(APP, project, ignore=shutil.ignore_patterns("__pycache__", "dist"))
    make_repo(project, {})
    done = shipyard("run", "--json", cwd=project, home=home, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    report = done.report
    assert report["conclusion"] == "success"
    conclusions = {job["key"]: job["conclusion"] for job in report["jobs"]}
    assert conclusions == {
        "Lint": "success",
        "Test (Python 3.11)": "success",
        "Test (Python 3.12)": "success",
        "Build": "success",
        "Smoke test the archive": "success",
    }
    build = done.job("Build")
    assert build["outputs"]["version"] == "1.0.0"
    assert build["outputs"]["archive"] == "webapp-1.0.0.zip"
    assert "Smoke test of webapp 1.0.0" in done.job("Smoke test the archive")["summary"]
    artifacts = Path(report["run_dir"]) / "artifacts"
    assert (artifacts / "webapp-dist").is_dir()
