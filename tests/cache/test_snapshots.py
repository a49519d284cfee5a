"""Tree snapshots: what is saved, that it comes back exactly, dedup, and refusing to escape."""

from __future__ import annotations

import json
import os
import stat
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from shipyard.cache import errors, manifest, snapshots, store
from tests.cache.conftest import blob_files, run_python

Description = dict[str, tuple[object, ...]]
OLD = 1_600_000_000  # an mtime old enough for the stat cache to trust


def describe(root: Path) -> Description:
    """Every path under ``root``: kind, permission bits, and bytes or link target."""
    found: Description = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            mode = stat.S_IMODE(path.lstat().st_mode)
            if path.is_symlink():
                found[relative] = ("symlink", os.readlink(path))
            elif path.is_dir():
                found[relative] = ("dir", oct(mode))
            else:
                found[relative] = ("file", oct(mode), path.read_bytes())
    return found


def make_tree(root: Path) -> Path:
    """Files of several modes, empty and read-only directories, and links of every sort."""
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "pkg" / "module.py").write_text("print('hi')\n")
    (root / "src" / "run.sh").write_text("#!/bin/sh\necho run\n")
    (root / "src" / "run.sh").chmod(0o755)
    (root / "src" / "private.key").write_text("secret\n")
    (root / "src" / "private.key").chmod(0o600)
    (root / "src" / "empty.txt").write_bytes(b"")
    (root / "src" / "données.txt").write_text("é\n")
    (root / "empty").mkdir(mode=0o700)
    (root / "empty").chmod(0o700)
    (root / "frozen").mkdir()
    (root / "frozen" / "inside.txt").write_text("frozen\n")
    (root / "frozen" / "inside.txt").chmod(0o444)
    (root / "frozen").chmod(0o555)
    (root / "src" / "link-to-file").symlink_to("run.sh")
    (root / "src" / "link-to-dir").symlink_to("pkg")
    (root / "src" / "dangling").symlink_to("nowhere/at/all")
    (root / "src" / "absolute").symlink_to("/etc/hostname")
    return root


class CountingStore(store.BlobStore):
    """A real store that remembers which files it was asked to read."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, durable=False)
        self.read: list[str] = []

    def put_files(self, paths: Sequence[str | os.PathLike[str]]) -> list[store.Blob]:
        self.read.extend(os.fspath(path) for path in paths)
        return super().put_files(paths)


def test_a_tree_comes_back_exactly(blobs: store.BlobStore, tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "tree")
    snapshot = snapshots.save_tree(blobs, tree, [tree])
    dest = tmp_path / "dest"
    restored = snapshots.restore_tree(blobs, snapshot.digest, dest)
    assert restored.entries == snapshot.entries
    assert describe(dest) == describe(tree)
    assert describe(dest)["frozen"] == ("dir", "0o555")
    assert describe(dest)["src/run.sh"] == ("file", "0o755", b"#!/bin/sh\necho run\n")
    assert describe(dest)["src/link-to-dir"] == ("symlink", "pkg")


def test_the_manifest_lists_each_entry_once(blobs: store.BlobStore, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "bin").mkdir(parents=True)
    (tree / "bin" / "tool").write_bytes(b"tool")
    (tree / "bin" / "tool").chmod(0o750)
    (tree / "bin").chmod(0o755)
    (tree / "bin" / "alias").symlink_to("tool")
    snapshot = snapshots.save_tree(blobs, tree, [Path("bin"), tree / "bin" / "tool"])
    digest = blobs.put_bytes(b"tool").digest
    assert snapshot.entries == (
        manifest.Entry("bin", "dir", mode=0o755),
        manifest.Entry("bin/alias", "symlink", target="tool"),
        manifest.Entry("bin/tool", "file", mode=0o750, size=4, digest=digest),
    )
    assert (snapshot.size, snapshot.file_count, snapshot.skipped) == (4, 1, ())
    assert snapshot.digest == blobs.put_bytes(manifest.encode(snapshot.entries)).digest
    assert snapshots.load(blobs, snapshot.digest) == snapshot


def test_only_the_given_paths_are_saved_and_parents_are_made_on_restore(
    blobs: store.BlobStore, tmp_path: Path
) -> None:
    tree = make_tree(tmp_path / "tree")
    snapshot = snapshots.save_tree(blobs, tree, [Path("src/pkg"), tree / "src" / "run.sh"])
    assert [entry.path for entry in snapshot.entries] == [
        "src/pkg",
        "src/pkg/module.py",
        "src/run.sh",
    ]
    dest = tmp_path / "dest"
    snapshots.restore_tree(blobs, snapshot.digest, dest)
    assert sorted(describe(dest)) == ["src", "src/pkg", "src/pkg/module.py", "src/run.sh"]


def test_links_are_stored_as_links_never_followed(blobs: store.BlobStore, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "big.bin").write_bytes(b"x" * 1000)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "vendor").symlink_to(outside)
    snapshot = snapshots.save_tree(blobs, tree, [tree])
    assert snapshot.entries == (manifest.Entry("vendor", "symlink", target=str(outside)),)
    assert len(blob_files(blobs.root)) == 1  # the manifest alone


def test_pipes_are_skipped_and_listed(blobs: store.BlobStore, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    os.mkfifo(tree / "pipe")
    (tree / "file").write_text("x")
    snapshot = snapshots.save_tree(blobs, tree, [tree])
    assert [entry.path for entry in snapshot.entries] == ["file"]
    assert snapshot.skipped == ("pipe",)


def test_paths_outside_the_base_or_missing_are_refused(
    blobs: store.BlobStore, tmp_path: Path
) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    with pytest.raises(errors.SnapshotError) as caught:
        snapshots.save_tree(blobs, tree, [Path("../elsewhere")])
    assert caught.value.render() == (
        f"../elsewhere is not under {tree}\n"
        "  hint: save paths inside the base directory, or choose a base that contains them"
    )
    with pytest.raises(errors.SnapshotError) as caught:
        snapshots.save_tree(blobs, tree, [Path("/etc")])
    assert caught.value.headline() == f"/etc is not under {tree}"
    with pytest.raises(errors.SnapshotError) as caught:
        snapshots.save_tree(blobs, tree, [Path("node_modules")])
    assert caught.value.render() == (
        f"cannot save {tree / 'node_modules'}: no such file or directory\n"
        "  hint: save only paths that exist"
    )


def test_an_unreadable_directory_is_a_clear_error(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "locked").mkdir(parents=True)
    (tree / "locked").chmod(0o000)
    done = run_python(
        textwrap.dedent(f"""
            from pathlib import Path
            from shipyard.cache import errors, snapshots, store
            blobs = store.BlobStore(Path({str(tmp_path / "store")!r}))
            try:
                snapshots.save_tree(blobs, Path({str(tree)!r}), [Path(".")])
            except errors.CacheError as error:
                print(error.render())
        """),
        obey_permissions=True,
    )
    (tree / "locked").chmod(0o755)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        f"cannot read {tree / 'locked'}: Permission denied\n"
        "  hint: make it readable, or leave it out of what is cached\n"
    )


def test_an_unchanged_tree_stores_no_new_blob(blobs: store.BlobStore, tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "tree")
    first = snapshots.save_tree(blobs, tree, [tree])
    stored = blob_files(blobs.root)
    assert len(stored) == 7  # 6 distinct file contents and the manifest
    again = snapshots.save_tree(blobs, tree, [tree], use_stat_cache=False)
    assert again.digest == first.digest
    assert blob_files(blobs.root) == stored
    (tree / "src" / "pkg" / "module.py").write_text("print('changed')\n")
    changed = snapshots.save_tree(blobs, tree, [tree])
    assert changed.digest != first.digest
    assert len(blob_files(blobs.root)) == len(stored) + 2  # the changed file and its manifest


def test_the_stat_cache_skips_reading_unchanged_files(tmp_path: Path) -> None:
    counting = CountingStore(tmp_path / "store")
    tree = make_tree(tmp_path / "tree")
    for path in tree.rglob("*"):
        os.utime(path, (OLD, OLD), follow_symlinks=False)
    first = snapshots.save_tree(counting, tree, [tree])
    assert len(counting.read) == 6
    counting.read.clear()
    assert snapshots.save_tree(counting, tree, [tree]).digest == first.digest
    assert counting.read == []
    assert snapshots.save_tree(counting, tree, [tree], use_stat_cache=False) == first
    assert len(counting.read) == 6


def test_the_stat_cache_sees_a_rewrite_that_kept_size_and_mtime(tmp_path: Path) -> None:
    counting = CountingStore(tmp_path / "store")
    tree = tmp_path / "tree"
    tree.mkdir()
    target = tree / "version.txt"
    target.write_text("v1\n")
    os.utime(target, (OLD, OLD))
    first = snapshots.save_tree(counting, tree, [tree])
    target.write_text("v2\n")  # same size; its old mtime put back, as some tools do
    os.utime(target, (OLD, OLD))
    second = snapshots.save_tree(counting, tree, [tree])
    assert second.digest != first.digest
    assert counting.read == [str(target), str(target)]
    dest = tmp_path / "dest"
    snapshots.restore_tree(counting, second.digest, dest)
    assert (dest / "version.txt").read_text() == "v2\n"


def test_files_changed_just_now_are_not_trusted_to_the_stat_cache(tmp_path: Path) -> None:
    counting = CountingStore(tmp_path / "store")
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "fresh.txt").write_text("written a moment ago\n")
    snapshots.save_tree(counting, tree, [tree])
    snapshots.save_tree(counting, tree, [tree])
    assert counting.read == [str(tree / "fresh.txt")] * 2


def test_restore_replaces_what_is_in_the_way_without_writing_through(
    blobs: store.BlobStore, tmp_path: Path
) -> None:
    tree = tmp_path / "tree"
    (tree / "lib").mkdir(parents=True)
    (tree / "lib" / "a.txt").write_text("new a\n")
    (tree / "lib" / "b.txt").write_text("new b\n")
    (tree / "lib" / "c.txt").write_text("new c\n")
    (tree / "lib" / "sub").mkdir()
    snapshot = snapshots.save_tree(blobs, tree, [tree])
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    dest = tmp_path / "dest"
    (dest / "lib" / "c.txt" / "deep").mkdir(parents=True)  # a directory where a file goes
    (dest / "lib" / "a.txt").symlink_to(outside)  # a link where a file goes
    os.link(outside, dest / "lib" / "b.txt")  # a hard link to a file elsewhere
    (dest / "lib" / "sub").write_text("a file where a directory goes\n")
    (dest / "lib" / "extra.txt").write_text("not in the snapshot\n")
    snapshots.restore_tree(blobs, snapshot.digest, dest)
    assert outside.read_text() == "precious\n"
    assert describe(dest) == {**describe(tree), "lib/extra.txt": describe(dest)["lib/extra.txt"]}


def test_restore_refuses_to_pass_through_a_link_in_the_destination(
    blobs: store.BlobStore, tmp_path: Path
) -> None:
    tree = tmp_path / "tree"
    (tree / "cache" / "pip").mkdir(parents=True)
    (tree / "cache" / "pip" / "wheel.whl").write_text("wheel\n")
    snapshot = snapshots.save_tree(blobs, tree, [Path("cache/pip")])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "cache").symlink_to(elsewhere)
    with pytest.raises(errors.UnsafePath) as caught:
        snapshots.restore_tree(blobs, snapshot.digest, dest)
    assert caught.value.render() == (
        f"cannot restore into {dest / 'cache'}: it is a symbolic link\n"
        "  hint: a snapshot never writes through links; remove it or restore elsewhere"
    )
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("path", ["../escaped.txt", "/tmp/escaped.txt", "a/../../escaped.txt"])
def test_a_manifest_escaping_the_destination_writes_nothing(
    blobs: store.BlobStore, tmp_path: Path, path: str
) -> None:
    digest = blobs.put_bytes(b"payload").digest
    row = {"path": path, "kind": "file", "mode": 0o644, "size": 7, "digest": digest}
    crafted = manifest.MAGIC + json.dumps(row).encode() + b"]}"
    snapshot_digest = blobs.put_bytes(crafted).digest
    dest = tmp_path / "dest"
    with pytest.raises(errors.UnsafePath) as caught:
        snapshots.restore_tree(blobs, snapshot_digest, dest)
    assert caught.value.headline() == f"snapshot path {path!r} is not a plain relative path"
    assert not (tmp_path / "escaped.txt").exists()
    assert not Path("/tmp/escaped.txt").exists()
    assert not dest.exists()


def test_a_corrupt_file_fails_the_restore(blobs: store.BlobStore, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    for index in range(300):  # enough to restore on several threads
        (tree / f"f{index:03d}").write_text(f"file {index}\n")
    snapshot = snapshots.save_tree(blobs, tree, [tree], workers=4)
    victim = next(entry for entry in snapshot.entries if entry.path == "f123")
    assert victim.digest is not None
    path = blobs.path_of(victim.digest)
    path.chmod(0o644)
    path.write_text("file 666\n")
    with pytest.raises(errors.CorruptBlob) as caught:
        snapshots.restore_tree(blobs, snapshot.digest, tmp_path / "dest", workers=4)
    assert caught.value.digest == victim.digest
    assert not (tmp_path / "dest" / "f123").exists()


def test_a_blob_that_is_no_manifest_is_no_snapshot(blobs: store.BlobStore, tmp_path: Path) -> None:
    digest = blobs.put_bytes(b"just bytes").digest
    with pytest.raises(errors.SnapshotError) as caught:
        snapshots.restore_tree(blobs, digest, tmp_path / "dest")
    assert caught.value.headline() == "the blob is not a snapshot manifest"


def test_a_thousand_files_on_several_threads(blobs: store.BlobStore, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    for index in range(1000):
        folder = tree / f"d{index % 20:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{index}").write_bytes(os.urandom(index % 97) + b"%d" % index)
    started = time.perf_counter()
    snapshot = snapshots.save_tree(blobs, tree, [tree], workers=4)
    snapshots.restore_tree(blobs, snapshot.digest, tmp_path / "dest", workers=4)
    elapsed = time.perf_counter() - started
    assert snapshot.file_count == 1000
    assert describe(tmp_path / "dest") == describe(tree)
    assert elapsed < 60  # seconds, on a loaded two-core machine; the figure is in bench/


def test_a_damaged_stat_cache_only_costs_time(blobs: store.BlobStore, tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "tree")
    for path in tree.rglob("*"):
        os.utime(path, (OLD, OLD), follow_symlinks=False)
    first = snapshots.save_tree(blobs, tree, [tree])
    [stat_file] = (blobs.root / "stat").iterdir()
    stat_file.write_text('{"format": 1, "files": {"src/run.sh": [1, 2, 3, 4, "../../x"]}}')
    assert snapshots.save_tree(blobs, tree, [tree]) == first
    stat_file.write_text("not json")
    assert snapshots.save_tree(blobs, tree, [tree]) == first
