"""Named entries: records on disk, last use, prefix lookups, LRU eviction and mark-and-sweep."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from shipyard.cache import entries, errors, snapshots
from tests.cache.conftest import blob_files

OLD = 1_600_000_000


@pytest.fixture
def index(tmp_path: Path) -> entries.CacheIndex:
    return entries.CacheIndex(tmp_path / "cache", durable=False)


def record_path(index: entries.CacheIndex, folder: str, key: str) -> Path:
    return index.root / "entries" / folder / f"{hashlib.sha256(key.encode()).hexdigest()}.json"


def age(index: entries.CacheIndex, namespace: str, key: str, when: float) -> None:
    """Pretend the entry was last used at ``when``."""
    os.utime(index._path(namespace, key), (when, when))


def age_blobs(index: entries.CacheIndex) -> None:
    for path in blob_files(index.root):
        os.utime(path, (OLD, OLD))


def test_an_entry_is_a_small_json_file_named_by_the_key_hash(
    index: entries.CacheIndex,
) -> None:
    blob = index.store.put_bytes(b"payload")
    entry = index.put("jobs", "build-1", blob.digest, 7, metadata={"job": "build"})
    assert (entry.namespace, entry.key, entry.digest, entry.size) == (
        "jobs",
        "build-1",
        blob.digest,
        7,
    )
    assert entry.created == entry.last_used
    assert (entry.metadata, entry.refs) == ({"job": "build"}, ())
    path = record_path(index, "jobs", "build-1")
    assert json.loads(path.read_text()) == {
        "format": 1,
        "namespace": "jobs",
        "key": "build-1",
        "digest": blob.digest,
        "size": 7,
        "created": entry.created,
        "metadata": {"job": "build"},
        "refs": [],
    }
    assert os.listdir(index.root / "tmp") == []


def test_get_marks_the_entry_used(index: entries.CacheIndex) -> None:
    blob = index.store.put_bytes(b"payload")
    put = index.put("jobs", "build-1", blob.digest, 7)
    age(index, "jobs", "build-1", OLD)
    assert [entry.last_used for entry in index.list()] == [OLD]
    got = index.get("jobs", "build-1")
    assert got is not None
    assert (got.digest, got.created) == (blob.digest, put.created)
    assert got.last_used > OLD
    assert [entry.last_used for entry in index.list()] == [got.last_used]
    assert index.get("jobs", "build-2") is None
    assert index.get("other", "build-1") is None


def test_an_entry_whose_blob_is_gone_is_a_miss_and_forgotten(index: entries.CacheIndex) -> None:
    blob = index.store.put_bytes(b"payload")
    index.put("jobs", "build-1", blob.digest, 7)
    index.store.path_of(blob.digest).unlink()
    assert index.get("jobs", "build-1") is None
    assert index.list() == []


def test_put_needs_its_blobs_in_the_store(index: entries.CacheIndex) -> None:
    missing = hashlib.sha256(b"never stored").hexdigest()
    with pytest.raises(errors.BlobNotFound):
        index.put("jobs", "k", missing, 1)
    present = index.store.put_bytes(b"here").digest
    with pytest.raises(errors.BlobNotFound):
        index.put("jobs", "k", present, 4, refs=[missing])
    assert index.list() == []


def test_put_replaces_and_remove_removes(index: entries.CacheIndex) -> None:
    first = index.store.put_bytes(b"one").digest
    second = index.store.put_bytes(b"two").digest
    index.put("ns", "key", first, 3)
    index.put("ns", "key", second, 3)
    assert [entry.digest for entry in index.list()] == [second]
    assert index.remove("ns", "key") is True
    assert index.remove("ns", "key") is False
    assert index.list() == []


def test_find_prefix_is_newest_first(index: entries.CacheIndex) -> None:
    digest = index.store.put_bytes(b"x").digest
    for key in ["npm-linux-b", "npm-linux-a", "npm-macos-a", "pip-linux"]:
        index.put("actions", key, digest, 1)
    index.put("other", "npm-linux-z", digest, 1)
    assert [entry.key for entry in index.find_prefix("actions", "npm-linux-")] == [
        "npm-linux-a",
        "npm-linux-b",
    ]
    assert [entry.key for entry in index.find_prefix("actions", "npm-")] == [
        "npm-macos-a",
        "npm-linux-a",
        "npm-linux-b",
    ]
    assert index.find_prefix("actions", "cargo-") == []
    assert index.find_prefix("missing", "") == []


def test_namespaces_with_any_characters_stay_apart(index: entries.CacheIndex) -> None:
    digest = index.store.put_bytes(b"x").digest
    for namespace in ["acme/shop@refs/heads/main", "..", ".", "a b"]:
        index.put(namespace, "key", digest, 1)
    folders = sorted(os.listdir(index.root / "entries"))
    assert folders == ["%2E", "%2E%2E", "a%20b", "acme%2Fshop%40refs%2Fheads%2Fmain"]
    assert [entry.namespace for entry in index.list()] == [
        ".",
        "..",
        "a b",
        "acme/shop@refs/heads/main",
    ]
    assert [entry.namespace for entry in index.list("..")] == [".."]


def test_bad_names_and_metadata_are_refused(index: entries.CacheIndex) -> None:
    digest = index.store.put_bytes(b"x").digest
    with pytest.raises(errors.CacheError) as caught:
        index.put("", "key", digest, 1)
    assert caught.value.headline() == "a cache namespace cannot be empty"
    with pytest.raises(errors.CacheError) as caught:
        index.put("ns", "", digest, 1)
    assert caught.value.headline() == "a cache key cannot be empty"
    with pytest.raises(errors.CacheError) as caught:
        index.put("ns", "key", digest, 1, metadata={"when": object()})
    assert caught.value.headline().startswith("cache entry 'key': metadata is not JSON: ")
    assert caught.value.hint == "pass plain dicts, lists, strings, numbers, booleans and None"


def test_a_damaged_record_is_invisible(index: entries.CacheIndex) -> None:
    digest = index.store.put_bytes(b"x").digest
    index.put("ns", "key", digest, 1)
    record_path(index, "ns", "key").write_text("{not json")
    assert index.list() == []
    assert index.get("ns", "key") is None


def save_files(index: entries.CacheIndex, root: Path, files: dict[str, bytes]) -> str:
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    paths = [root / name for name in files]
    return snapshots.save_tree(index.store, root, paths, use_stat_cache=False).digest


def test_prune_evicts_least_recently_used_and_sweeps_their_blobs(
    index: entries.CacheIndex, tmp_path: Path
) -> None:
    shared = b"s" * 1000
    old = save_files(index, tmp_path / "old", {"shared": shared, "a": b"a" * 100})
    new = save_files(index, tmp_path / "new", {"shared": shared, "b": b"b" * 200})
    index.put("ns", "old", old, 1100)
    index.put("ns", "new", new, 1200)
    age(index, "ns", "old", OLD)
    age(index, "ns", "new", OLD + 10)
    age_blobs(index)
    manifests = len(index.store.read_bytes(old)) + len(index.store.read_bytes(new))
    assert index.prune(10_000) == entries.PruneReport(entries_kept=2, bytes_kept=1300 + manifests)
    new_manifest = len(index.store.read_bytes(new))
    report = index.prune(1200 + new_manifest)
    assert [entry.key for entry in report.evicted] == ["old"]
    assert report.broken == ()
    assert (report.blobs_deleted, report.bytes_freed) == (2, 100 + manifests - new_manifest)
    assert (report.entries_kept, report.bytes_kept) == (1, 1200 + new_manifest)
    assert [entry.key for entry in index.list()] == ["new"]
    snapshots.restore_tree(index.store, new, tmp_path / "restored")
    assert (tmp_path / "restored" / "shared").read_bytes() == shared


def test_recently_touched_unneeded_blobs_are_spared(
    index: entries.CacheIndex, tmp_path: Path
) -> None:
    age_blobs(index)
    in_progress = index.store.put_bytes(b"a save in progress stored this")
    abandoned = index.store.put_bytes(b"a save killed long ago stored this")
    os.utime(index.store.path_of(abandoned.digest), (OLD, OLD))
    report = index.prune(0)
    assert (report.blobs_deleted, report.bytes_freed) == (1, abandoned.size)
    assert (report.blobs_spared, report.bytes_spared) == (1, in_progress.size)
    assert index.store.has(in_progress.digest)
    assert not index.store.has(abandoned.digest)
    assert index.prune(0, grace_seconds=0).blobs_deleted == 1


def test_refs_keep_blobs_alive_and_broken_entries_go(
    index: entries.CacheIndex, tmp_path: Path
) -> None:
    logs = save_files(index, tmp_path / "logs", {"1.log": b"log\n"})
    record = index.store.put_bytes(b'{"conclusion": "success"}')
    index.put("jobs", "build", record.digest, 30, refs=[logs])
    broken = save_files(index, tmp_path / "broken", {"gone.txt": b"gone\n"})
    index.put("jobs", "broken", broken, 5)
    index.store.path_of(hashlib.sha256(b"gone\n").hexdigest()).unlink()
    age_blobs(index)
    report = index.prune(10_000)
    assert [entry.key for entry in report.broken] == ["broken"]
    assert [entry.key for entry in index.list()] == ["build"]
    assert report.blobs_deleted == 1  # the broken entry's manifest
    snapshots.restore_tree(index.store, logs, tmp_path / "restored")
    assert (tmp_path / "restored" / "1.log").read_bytes() == b"log\n"


def test_enforce_cap_prunes_only_over_the_cap(
    index: entries.CacheIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("a", "b"):
        blob = index.store.put_bytes(name.encode() * 600)
        index.put("ns", name, blob.digest, 600)
    age(index, "ns", "a", OLD)
    assert index.enforce_cap(1200) is None
    monkeypatch.setenv("SHIPYARD_CACHE_MAX_SIZE", "1K")
    report = index.enforce_cap()
    assert report is not None
    assert [entry.key for entry in report.evicted] == ["a"]
    assert [entry.key for entry in index.list()] == ["b"]


def test_clear_removes_everything_and_the_store_still_works(
    index: entries.CacheIndex, tmp_path: Path
) -> None:
    digest = save_files(index, tmp_path / "tree", {"f": b"f"})
    index.put("ns", "one", digest, 1)
    index.put("ns", "two", digest, 1)
    assert index.clear() == 2
    assert index.list() == []
    assert blob_files(index.root) == []
    assert sorted(os.listdir(index.root)) == ["tmp"]
    assert os.listdir(index.root / "tmp") == []
    again = save_files(index, tmp_path / "tree", {"f": b"f"})
    index.put("ns", "one", again, 1)
    assert [entry.key for entry in index.list()] == ["one"]
