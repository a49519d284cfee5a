"""Finding and loading the workflow files of a repository on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.core import errors
from shipyard.spec import discovery
from tests.spec import cases


def write(root: Path, relative: str, text: str = cases.JOB) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_finds_yml_and_yaml_files_in_both_directories_sorted(tmp_path: Path) -> None:
    write(tmp_path, ".shipyard/workflows/local.yaml")
    write(tmp_path, ".github/workflows/release.yml")
    write(tmp_path, ".github/workflows/ci.yaml")
    write(tmp_path, ".github/workflows/notes.md")
    write(tmp_path, ".github/workflows/nested/deep.yml")
    write(tmp_path, ".github/ci.yml")
    (tmp_path / ".github/workflows/folder.yml").mkdir()
    found = discovery.find_workflow_files(tmp_path)
    assert [path.relative_to(tmp_path).as_posix() for path in found] == [
        ".github/workflows/ci.yaml",
        ".github/workflows/release.yml",
        ".shipyard/workflows/local.yaml",
    ]


def test_no_workflow_directories(tmp_path: Path) -> None:
    assert discovery.find_workflow_files(tmp_path) == []
    assert discovery.load_workflows(tmp_path) == []


def test_loads_every_workflow_with_paths_relative_to_the_root(tmp_path: Path) -> None:
    write(tmp_path, ".github/workflows/b.yml")
    write(tmp_path, ".shipyard/workflows/a.yml", cases.JOB.replace("build", "local"))
    loaded = discovery.load_workflows(tmp_path)
    assert [(flow.path, list(flow.jobs)) for flow in loaded] == [
        (".github/workflows/b.yml", ["build"]),
        (".shipyard/workflows/a.yml", ["local"]),
    ]


def test_loads_only_the_paths_given(tmp_path: Path) -> None:
    write(tmp_path, ".github/workflows/a.yml", "not: valid\n")
    chosen = write(tmp_path, ".github/workflows/b.yml")
    assert [flow.path for flow in discovery.load_workflows(tmp_path, [chosen])] == [
        ".github/workflows/b.yml"
    ]


def test_reports_the_problems_of_every_file_at_once(tmp_path: Path) -> None:
    write(tmp_path, ".github/workflows/a.yml", cases.JOB.replace("runs-on", "runs_on"))
    write(tmp_path, ".github/workflows/b.yml")
    write(tmp_path, ".shipyard/workflows/c.yml", "on: [push\n")
    with pytest.raises(errors.SpecErrors) as caught:
        discovery.load_workflows(tmp_path)
    assert caught.value.render() == (
        ".github/workflows/a.yml:4:5: jobs.build.runs_on: unknown key `runs_on`\n"
        "  hint: did you mean `runs-on`?\n"
        ".shipyard/workflows/c.yml:2:1: invalid YAML: expected `,` or `]` in this list\n"
        "  hint: separate the items of `[...]` with commas and close it with `]`\n"
        "2 errors"
    )


def test_display_path_outside_the_root_stays_as_given(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.yml"
    assert discovery.display_path(outside, tmp_path / "repo") == str(outside)
