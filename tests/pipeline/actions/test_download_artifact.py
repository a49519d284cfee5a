"""actions/download-artifact (v4) against a real artifact store."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.pipeline import artifacts
from shipyard.pipeline.actions import download_artifact, interface
from tests.pipeline.actions.conftest import Harness

ACTION = download_artifact.DownloadArtifact()


@pytest.fixture
def store(harness: Harness, tmp_path: Path) -> artifacts.ArtifactStore:
    """A store holding dist-linux, dist-macos and coverage, uploaded in that order."""
    store = artifacts.ArtifactStore(harness.artifacts)
    contents = {
        "dist-linux": {"app-linux": "L", "lib/shared.txt": "linux"},
        "dist-macos": {"app-macos": "M", "lib/shared.txt": "macos"},
        "coverage": {"coverage.xml": "<coverage/>"},
    }
    for name, files in contents.items():
        root = tmp_path / "uploads" / name
        for path, text in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
        (root / next(iter(files))).chmod(0o755)
        store.save_directory(name, root, sorted(p for p in root.rglob("*") if p.is_file()))
    return store


def tree(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): path.read_text()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_one_named_artifact_goes_straight_into_the_workspace(
    harness: Harness, store: artifacts.ArtifactStore
) -> None:
    io = harness.run(ACTION, {"name": "dist-linux"})
    assert tree(harness.workspace) == {"app-linux": "L", "lib/shared.txt": "linux"}
    assert io.outputs == {"download-path": str(harness.workspace)}
    assert io.lines == [
        "Preparing to download the following artifacts:",
        "- dist-linux (ID: 1, Size: 6)",
        "Total of 1 artifact(s) downloaded",
        "Download artifact has finished successfully",
    ]


def test_permissions_are_those_of_a_v4_download(
    harness: Harness, store: artifacts.ArtifactStore
) -> None:
    harness.run(ACTION, {"name": "dist-linux", "path": "out"})
    out = harness.workspace / "out"
    assert (out / "app-linux").stat().st_mode & 0o777 == 0o644
    assert (out / "lib").stat().st_mode & 0o777 == 0o755
    assert (out / "lib" / "shared.txt").stat().st_mode & 0o777 == 0o644


def test_without_a_name_every_artifact_gets_its_own_directory(
    harness: Harness, store: artifacts.ArtifactStore
) -> None:
    io = harness.run(ACTION, {"path": "all"})
    assert tree(harness.workspace / "all") == {
        "coverage/coverage.xml": "<coverage/>",
        "dist-linux/app-linux": "L",
        "dist-linux/lib/shared.txt": "linux",
        "dist-macos/app-macos": "M",
        "dist-macos/lib/shared.txt": "macos",
    }
    assert io.outputs == {"download-path": str(harness.workspace / "all")}
    assert "An extra directory with the artifact name will be created for each download" in io.lines


def test_a_pattern_with_merge_multiple_merges_in_upload_order(
    harness: Harness, store: artifacts.ArtifactStore
) -> None:
    harness.run(ACTION, {"pattern": "dist-{linux,macos}", "merge-multiple": "true"})
    assert tree(harness.workspace) == {
        "app-linux": "L",
        "app-macos": "M",
        "lib/shared.txt": "macos",
    }


def test_a_pattern_without_merge_keeps_directories(
    harness: Harness, store: artifacts.ArtifactStore
) -> None:
    io = harness.run(ACTION, {"pattern": "dist-*", "path": "d"})
    assert sorted(path.name for path in (harness.workspace / "d").iterdir()) == [
        "dist-linux",
        "dist-macos",
    ]
    assert "Filtering artifacts by pattern 'dist-*'" in io.lines


def test_artifact_ids_select_by_id(harness: Harness, store: artifacts.ArtifactStore) -> None:
    harness.run(ACTION, {"artifact-ids": "3, 1"})
    assert sorted(path.name for path in harness.workspace.iterdir()) == [
        "coverage",
        "dist-linux",
    ]


def test_a_pattern_matching_nothing_downloads_nothing(
    harness: Harness, store: artifacts.ArtifactStore
) -> None:
    io = harness.run(ACTION, {"pattern": "docs-*"})
    assert list(harness.workspace.iterdir()) == []
    assert "Total of 0 artifact(s) downloaded" in io.lines


def test_a_missing_name_fails_listing_what_exists(
    harness: Harness, store: artifacts.ArtifactStore
) -> None:
    with pytest.raises(interface.ActionFailed) as failure:
        harness.run(ACTION, {"name": "dist-windows"})
    assert failure.value.message == (
        "Unable to download artifact(s): Artifact 'dist-windows' not found"
    )
    assert failure.value.hint == (
        "artifacts in this run: dist-linux (ID 1), dist-macos (ID 2), coverage (ID 3)"
    )


def test_a_missing_name_in_an_empty_run_explains_needs(harness: Harness) -> None:
    with pytest.raises(interface.ActionFailed) as failure:
        harness.run(ACTION, {"name": "dist"})
    assert failure.value.hint == (
        "no artifact has been uploaded in this run yet; a job that downloads one must "
        "`needs:` the job that uploads it"
    )


def test_tilde_and_relative_paths(harness: Harness, store: artifacts.ArtifactStore) -> None:
    io = harness.run(ACTION, {"name": "coverage", "path": "~/reports"})
    assert tree(harness.home / "reports") == {"coverage.xml": "<coverage/>"}
    assert io.outputs == {"download-path": str(harness.home / "reports")}


def test_another_run_cannot_be_reached_offline(
    harness: Harness, store: artifacts.ArtifactStore
) -> None:
    harness.env["GITHUB_RUN_ID"] = "7"
    io = harness.run(ACTION, {"name": "coverage", "github-token": "t", "run-id": "7"})
    assert io.outputs == {"download-path": str(harness.workspace)}
    with pytest.raises(interface.ActionFailed) as failure:
        harness.run(ACTION, {"name": "coverage", "github-token": "t", "run-id": "8"})
    assert failure.value.message == (
        "input `run-id` (8): only artifacts of the current run can be downloaded offline"
    )


def test_name_and_ids_together_are_refused(harness: Harness) -> None:
    with pytest.raises(interface.ActionFailed) as failure:
        harness.run(ACTION, {"name": "a", "artifact-ids": "1"})
    assert failure.value.message == (
        "Inputs 'name' and 'artifact-ids' cannot be used together. Please specify only one."
    )
