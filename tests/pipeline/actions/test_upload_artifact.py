"""actions/upload-artifact (v4) against real files and a real artifact store."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from shipyard.pipeline import artifacts
from shipyard.pipeline.actions import interface, upload_artifact
from tests.pipeline.actions.conftest import Harness

ACTION = upload_artifact.UploadArtifact()


def write(root: Path, files: Mapping[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def stored(harness: Harness, name: str) -> dict[str, str]:
    """The files of a stored artifact: path -> text, read back from the store's blobs."""
    store = artifacts.ArtifactStore(harness.artifacts)
    try:
        artifact = next(a for a in store.list() if a.name == name)
    except StopIteration:
        return {}
    return {
        item.path: store.index.store.read_bytes(item.sha256).decode() for item in artifact.files
    }


def expected_digest(files: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    for path in sorted(files):
        data = files[path].encode()
        digest.update(f"{path}\0{len(data)}\0{hashlib.sha256(data).hexdigest()}\n".encode())
    return digest.hexdigest()


def test_a_single_file_is_stored_without_its_directories(harness: Harness) -> None:
    write(harness.workspace, {"path/to/artifact/world.txt": "hello\n"})

    io = harness.run(ACTION, {"name": "my-artifact", "path": "path/to/artifact/world.txt"})

    assert stored(harness, "my-artifact") == {"world.txt": "hello\n"}
    location = harness.artifacts / "my-artifact"
    assert io.outputs == {
        "artifact-id": "1",
        "artifact-url": location.as_uri(),
        "artifact-digest": expected_digest({"world.txt": "hello\n"}),
    }
    assert io.warnings == []
    assert "With the provided path, there will be 1 file uploaded" in io.lines
    assert io.lines[-2:] == [
        "Artifact my-artifact has been successfully uploaded! Final size is 6 bytes. "
        "Artifact ID is 1",
        f"Artifact download URL: {location.as_uri()}",
    ]


def test_a_directory_keeps_the_paths_below_it(harness: Harness) -> None:
    write(harness.workspace, {"build/a.txt": "a", "build/sub/b.txt": "b", "other.txt": "x"})
    harness.run(ACTION, {"path": "build/"})
    assert stored(harness, "artifact") == {"a.txt": "a", "sub/b.txt": "b"}


def test_a_wildcard_keeps_the_hierarchy_after_the_first_wildcard(harness: Harness) -> None:
    write(
        harness.workspace,
        {
            "path/to/some/directory/foo1.txt": "1",
            "path/to/some/directory/foo2.txt": "2",
            "path/to/other/directory/foo1.txt": "3",
            "path/to/other/directory/bar.txt": "no",
        },
    )
    harness.run(ACTION, {"path": "path/to/*/directory/foo?.txt"})
    assert stored(harness, "artifact") == {
        "other/directory/foo1.txt": "3",
        "some/directory/foo1.txt": "1",
        "some/directory/foo2.txt": "2",
    }


def test_several_paths_share_their_least_common_ancestor_and_exclusions_apply(
    harness: Harness,
) -> None:
    write(
        harness.workspace,
        {
            "path/output/bin/app": "app",
            "path/output/bin/cache.tmp": "tmp",
            "path/output/test-results/junit.xml": "<xml/>",
            "path/output/logs/run.log": "not asked for",
        },
    )
    text = "path/output/bin/\npath/output/test-results\n!path/**/*.tmp\n"
    io = harness.run(ACTION, {"name": "results", "path": text})
    assert stored(harness, "results") == {
        "bin/app": "app",
        "test-results/junit.xml": "<xml/>",
    }
    assert f"Root directory of the artifact is {harness.workspace / 'path/output'}" in io.lines


def test_hidden_files_are_left_out_unless_asked_for(harness: Harness) -> None:
    write(
        harness.workspace,
        {"out/report.txt": "r", "out/.env": "SECRET=1", "out/.cache/x": "c", "out/ok/.keep": ""},
    )
    harness.run(ACTION, {"name": "plain", "path": "out"})
    harness.run(ACTION, {"name": "all", "path": "out", "include-hidden-files": "true"})
    assert stored(harness, "plain") == {"report.txt": "r"}
    assert stored(harness, "all") == {
        ".cache/x": "c",
        ".env": "SECRET=1",
        "ok/.keep": "",
        "report.txt": "r",
    }


def test_tilde_is_the_home_directory(harness: Harness) -> None:
    write(harness.home, {"new/artifact/world.txt": "hello"})
    harness.run(ACTION, {"path": "~/new/**/*"})
    assert stored(harness, "artifact") == {"artifact/world.txt": "hello"}


def test_symbolic_links_are_followed_and_broken_ones_skipped(harness: Harness) -> None:
    write(harness.workspace, {"real/data.txt": "data"})
    (harness.workspace / "dist").mkdir()
    (harness.workspace / "dist" / "data.txt").symlink_to(harness.workspace / "real" / "data.txt")
    (harness.workspace / "dist" / "gone.txt").symlink_to(harness.workspace / "missing.txt")
    harness.run(ACTION, {"path": "dist"})
    assert stored(harness, "artifact") == {"data.txt": "data"}


@pytest.mark.parametrize(
    ("choice", "warnings", "logged"),
    [("warn", 1, False), ("ignore", 0, True)],
)
def test_no_files_warns_or_is_ignored(
    harness: Harness, choice: str, warnings: int, logged: bool
) -> None:
    message = "No files were found with the provided path: nothing/. No artifacts will be uploaded."
    io = harness.run(ACTION, {"path": "nothing/", "if-no-files-found": choice})
    assert io.warnings == [message] * warnings
    assert (message in io.lines) is logged
    assert io.outputs == {}
    assert artifacts.ArtifactStore(harness.artifacts).list() == []


def test_no_files_fails_when_asked_to(harness: Harness) -> None:
    with pytest.raises(interface.ActionFailed) as failure:
        harness.run(ACTION, {"path": "nothing/", "if-no-files-found": "error"})
    assert failure.value.message == (
        "No files were found with the provided path: nothing/. No artifacts will be uploaded."
    )


def test_uploading_a_name_twice_fails_unless_overwrite(harness: Harness) -> None:
    write(harness.workspace, {"one.txt": "1", "two.txt": "2"})
    harness.run(ACTION, {"path": "one.txt"})
    with pytest.raises(interface.ActionFailed) as failure:
        harness.run(ACTION, {"path": "two.txt"})
    assert failure.value.message == (
        "an artifact named 'artifact' already exists in this run; artifacts are immutable"
    )
    assert failure.value.hint == (
        "give each upload its own name (in a matrix, add the matrix values to it), or set "
        "`overwrite: true` to replace the earlier one"
    )
    io = harness.run(ACTION, {"path": "two.txt", "overwrite": "true"})
    assert io.outputs["artifact-id"] == "2"
    assert stored(harness, "artifact") == {"two.txt": "2"}


def test_the_manifest_lists_the_files_and_no_staging_is_left(harness: Harness) -> None:
    write(harness.workspace, {"dist/a.txt": "aa", "dist/b/c.txt": "ccc"})
    io = harness.run(ACTION, {"name": "dist", "path": "dist", "retention-days": "5"})
    manifest = json.loads((harness.artifacts / "dist" / "manifest.json").read_text())
    assert manifest == {
        "format": 1,
        "name": "dist",
        "id": 1,
        "digest": io.outputs["artifact-digest"],
        "size": 5,
        "retention_days": 5,
        "files": [
            {"path": "a.txt", "size": 2, "sha256": hashlib.sha256(b"aa").hexdigest()},
            {"path": "b/c.txt", "size": 3, "sha256": hashlib.sha256(b"ccc").hexdigest()},
        ],
    }
    assert list((harness.artifacts / ".staging").iterdir()) == []


def test_the_digest_depends_on_the_content_only(harness: Harness) -> None:
    write(harness.workspace, {"x/report.txt": "same", "y/report.txt": "same"})
    first = harness.run(ACTION, {"name": "first", "path": "x"})
    second = harness.run(ACTION, {"name": "second", "path": "y"})
    assert first.outputs["artifact-digest"] == second.outputs["artifact-digest"]


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (
            {"name": "a/b", "path": "x"},
            "The artifact name is not valid: 'a/b'. Contains the following character: "
            "Forward slash '/'",
        ),
        ({"path": "  "}, "Input required and not supplied: path"),
        (
            {"path": "x", "if-no-files-found": "fail"},
            "Unrecognized if-no-files-found input. Provided: fail. "
            "Available options: warn, error, ignore",
        ),
        (
            {"path": "x", "compression-level": "10"},
            "Invalid compression-level. Valid values are 0-9",
        ),
        (
            {"path": "x", "retention-days": "soon"},
            "input `retention-days` must be a whole number, got 'soon'",
        ),
        ({"path": "x", "overwrite": "yes"}, "input `overwrite` must be a boolean, got 'yes'"),
        (
            {"path": "../x"},
            "input `path`: invalid pattern "
            "'{workspace}/../x': relative pathing '.' and '..' is not allowed",
        ),
    ],
)
def test_invalid_inputs_fail_with_the_reason(
    harness: Harness, inputs: dict[str, str], message: str
) -> None:
    with pytest.raises(interface.ActionFailed) as failure:
        harness.run(ACTION, inputs)
    assert failure.value.message == message.format(workspace=harness.workspace)


def test_a_file_name_github_cannot_store_is_refused(harness: Harness) -> None:
    write(harness.workspace, {"out/a:b.txt": "x"})
    with pytest.raises(interface.ActionFailed) as failure:
        harness.run(ACTION, {"path": "out"})
    assert failure.value.message == (
        "The path for one of the files in artifact is not valid: a:b.txt. "
        "Contains the following character: Colon ':'"
    )


def test_retention_is_capped_by_the_repository_setting(harness: Harness) -> None:
    write(harness.workspace, {"a.txt": "a"})
    harness.env["GITHUB_RETENTION_DAYS"] = "30"
    io = harness.run(ACTION, {"path": "a.txt", "retention-days": "90"})
    assert io.warnings == [
        "Retention days cannot be greater than the maximum allowed retention set within the "
        "repository. Using 30 instead."
    ]
    assert artifacts.ArtifactStore(harness.artifacts).list()[0].retention_days == 30
