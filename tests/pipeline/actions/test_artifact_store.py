"""The run's artifact store (shipyard.pipeline.artifacts), used directly."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from shipyard.pipeline import artifacts


@pytest.fixture
def upload(tmp_path: Path) -> Path:
    root = tmp_path / "upload"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("a")
    (root / "sub" / "b.txt").write_text("bb")
    return root


def files_of(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def test_save_list_and_restore(tmp_path: Path, upload: Path) -> None:
    store = artifacts.ArtifactStore(tmp_path / "store")
    saved = store.save_directory("dist", upload, files_of(upload), retention_days=3)
    assert saved.id == 1
    assert saved.size == 3
    assert [item.path for item in saved.files] == ["a.txt", "sub/b.txt"]
    assert saved.url == (tmp_path / "store" / "dist").as_uri()
    assert store.list() == [saved]

    restored = store.restore("dist", tmp_path / "out")
    assert restored == saved
    assert (tmp_path / "out" / "sub" / "b.txt").read_text() == "bb"


def test_names_are_unique_and_ids_count_up(tmp_path: Path, upload: Path) -> None:
    store = artifacts.ArtifactStore(tmp_path / "store")
    store.save_directory("one", upload, files_of(upload))
    with pytest.raises(artifacts.ArtifactExists) as failure:
        store.save_directory("one", upload, files_of(upload))
    assert str(failure.value) == "an artifact named 'one' already exists in this run"
    replaced = store.save_directory("one", upload, files_of(upload)[:1], overwrite=True)
    assert replaced.id == 2
    assert [artifact.name for artifact in store.list()] == ["one"]


def test_concurrent_uploads_of_one_name_leave_one_complete_artifact(
    tmp_path: Path, upload: Path
) -> None:
    store = artifacts.ArtifactStore(tmp_path / "store")
    outcomes: list[str] = []

    def save() -> None:
        try:
            store.save_directory("same", upload, files_of(upload))
            outcomes.append("saved")
        except artifacts.ArtifactExists:
            outcomes.append("exists")

    threads = [threading.Thread(target=save) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["exists"] * 5 + ["saved"]
    [artifact] = store.list()
    assert [item.path for item in artifact.files] == ["a.txt", "sub/b.txt"]
    assert list((tmp_path / "store" / ".staging").iterdir()) == []


def test_an_upload_in_progress_is_invisible(tmp_path: Path) -> None:
    store = artifacts.ArtifactStore(tmp_path / "store")
    half = tmp_path / "store" / ".staging" / "abc" / "files"
    half.mkdir(parents=True)
    (tmp_path / "store" / "no-manifest").mkdir()
    assert store.list() == []
    with pytest.raises(artifacts.ArtifactNotFound):
        store.restore("no-manifest", tmp_path / "out")


def test_a_file_changed_after_upload_is_detected(tmp_path: Path, upload: Path) -> None:
    store = artifacts.ArtifactStore(tmp_path / "store")
    saved = store.save_directory("dist", upload, files_of(upload))
    blob = store.index.store.path_of(saved.files[0].sha256)
    blob.chmod(0o644)
    blob.write_text("tampered")
    with pytest.raises(artifacts.ArtifactError) as failure:
        store.restore("dist", tmp_path / "out")
    assert str(failure.value).startswith("artifact file 'a.txt' cannot be restored: ")
    assert "corrupt" in str(failure.value)


@pytest.mark.parametrize("name", ["", ".", "..", ".hidden", "a/b"])
def test_names_that_cannot_be_directories_are_refused(
    tmp_path: Path, upload: Path, name: str
) -> None:
    store = artifacts.ArtifactStore(tmp_path / "store")
    with pytest.raises(artifacts.ArtifactError) as failure:
        store.save_directory(name, upload, files_of(upload))
    assert str(failure.value) == f"{name!r} cannot name an artifact"
