"""The blob store: layout, atomic writes, verification on every read, and fast restores."""

from __future__ import annotations

import hashlib
import os
import stat
import textwrap
import time
from pathlib import Path

import pytest

from shipyard.cache import errors, store
from tests.cache.conftest import blob_files, run_python


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_blob_is_filed_under_its_sha256_read_only(blobs: store.BlobStore) -> None:
    blob = blobs.put_bytes(b"hello")
    digest = sha256(b"hello")
    assert blob == store.Blob(digest, 5)
    path = blobs.root / "blobs" / digest[:2] / digest[2:]
    assert blobs.path_of(digest) == path
    assert path.read_bytes() == b"hello"
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert blobs.has(digest)
    assert blob_files(blobs.root) == [path]
    assert os.listdir(blobs.root / "tmp") == []


def test_an_existing_blob_is_not_rewritten_only_touched(blobs: store.BlobStore) -> None:
    first = blobs.put_bytes(b"same bytes")
    path = blobs.path_of(first.digest)
    os.utime(path, (1_000_000, 1_000_000))
    inode = path.stat().st_ino
    assert blobs.put_bytes(b"same bytes") == first
    assert path.stat().st_ino == inode
    assert path.stat().st_mtime > time.time() - 60
    assert len(blob_files(blobs.root)) == 1


def test_put_file_small_and_large(blobs: store.BlobStore, tmp_path: Path) -> None:
    small = tmp_path / "small.txt"
    small.write_bytes(b"small file\n")
    large = tmp_path / "large.bin"
    content = os.urandom(3 * 1024 * 1024 + 17)
    large.write_bytes(content)
    assert blobs.put_file(small) == store.Blob(sha256(b"small file\n"), 11)
    assert blobs.put_file(large) == store.Blob(sha256(content), len(content))
    assert blobs.read_bytes(sha256(content)) == content
    assert blobs.put_file(large) == store.Blob(sha256(content), len(content))
    assert len(blob_files(blobs.root)) == 2


def test_put_files_stores_duplicates_once(blobs: store.BlobStore, tmp_path: Path) -> None:
    paths = []
    for name, text in [("a", b"one"), ("b", b"two"), ("c", b"one")]:
        (tmp_path / name).write_bytes(text)
        paths.append(tmp_path / name)
    stored = blobs.put_files(paths)
    assert [blob.digest for blob in stored] == [sha256(b"one"), sha256(b"two"), sha256(b"one")]
    assert len(blob_files(blobs.root)) == 2
    assert os.listdir(blobs.root / "tmp") == []


def test_a_durable_store_flushes_and_publishes(tmp_path: Path) -> None:
    durable = store.BlobStore(tmp_path / "store")
    files = []
    for index in range(70):  # more than one flush batch
        path = tmp_path / f"f{index}"
        path.write_bytes(b"%d" % index)
        files.append(path)
    stored = durable.put_files(files)
    assert [durable.read_bytes(blob.digest) for blob in stored] == [b"%d" % i for i in range(70)]


def test_links_pipes_and_missing_files_are_not_stored(
    blobs: store.BlobStore, tmp_path: Path
) -> None:
    (tmp_path / "target").write_bytes(b"x")
    (tmp_path / "link").symlink_to("target")
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(errors.CacheError) as caught:
        blobs.put_file(tmp_path / "link")
    assert caught.value.render() == (
        f"cannot read {tmp_path / 'link'}: Too many levels of symbolic links\n"
        "  hint: make the file readable, or leave it out of what is cached"
    )
    with pytest.raises(errors.CacheError) as caught:
        blobs.put_file(tmp_path / "pipe")
    assert caught.value.headline() == f"cannot store {tmp_path / 'pipe'}: not a regular file"
    with pytest.raises(errors.CacheError) as caught:
        blobs.put_file(tmp_path / "missing")
    assert caught.value.headline() == (
        f"cannot read {tmp_path / 'missing'}: No such file or directory"
    )
    assert blob_files(blobs.root) == []


def test_an_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("no peeking")
    secret.chmod(0o000)
    done = run_python(
        textwrap.dedent(f"""
            from pathlib import Path
            from shipyard.cache import errors, store
            blobs = store.BlobStore(Path({str(tmp_path / "store")!r}))
            try:
                blobs.put_file(Path({str(secret)!r}))
            except errors.CacheError as error:
                print(error.render())
        """),
        obey_permissions=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        f"cannot read {secret}: Permission denied\n"
        "  hint: make the file readable, or leave it out of what is cached\n"
    )


def corrupt(blobs: store.BlobStore, digest: str, data: bytes = b"tampered") -> None:
    path = blobs.path_of(digest)
    path.chmod(0o644)
    path.write_bytes(data)


def test_a_corrupt_blob_is_detected_on_read_and_quarantined(blobs: store.BlobStore) -> None:
    digest = blobs.put_bytes(b"original").digest
    corrupt(blobs, digest)
    with pytest.raises(errors.CorruptBlob) as caught:
        blobs.read_bytes(digest)
    assert caught.value.render() == (
        f"blob {digest} is corrupt: its content hashes to {sha256(b'tampered')}\n"
        "  hint: the damaged blob was quarantined; the next save stores it again"
    )
    assert not blobs.has(digest)
    quarantined = list((blobs.root / "quarantine").iterdir())
    assert [path.read_bytes() for path in quarantined] == [b"tampered"]
    assert quarantined[0].name.startswith(f"{digest}.")
    with pytest.raises(errors.BlobNotFound):
        blobs.read_bytes(digest)
    assert blobs.put_bytes(b"original").digest == digest  # the next save stores it again
    assert blobs.read_bytes(digest) == b"original"


def test_a_corrupt_blob_is_detected_on_copy_and_the_copy_removed(
    blobs: store.BlobStore, tmp_path: Path
) -> None:
    content = os.urandom(2 * 1024 * 1024)
    digest = blobs.put_bytes(content).digest
    corrupt(blobs, digest, content[:-1] + bytes([content[-1] ^ 1]))  # one bit flipped
    target = tmp_path / "restored.bin"
    with pytest.raises(errors.CorruptBlob):
        blobs.copy_to(digest, target)
    assert not target.exists()
    assert not blobs.has(digest)


def test_a_missing_blob_and_a_malformed_digest(blobs: store.BlobStore, tmp_path: Path) -> None:
    missing = sha256(b"never stored")
    with pytest.raises(errors.BlobNotFound) as caught:
        blobs.copy_to(missing, tmp_path / "out")
    assert caught.value.render() == (
        f"no blob {missing} in the cache store\n"
        "  hint: the entry was probably evicted or cleared; save it again"
    )
    assert not (tmp_path / "out").exists()
    with pytest.raises(errors.CacheError) as caught:
        blobs.has("../../etc/passwd")
    assert caught.value.headline() == "'../../etc/passwd' is not a blob digest"


def test_copy_to_sets_the_mode_exactly_and_never_links(
    blobs: store.BlobStore, tmp_path: Path
) -> None:
    digest = blobs.put_bytes(b"#!/bin/sh\necho hi\n").digest
    target = tmp_path / "run.sh"
    old_umask = os.umask(0o077)
    try:
        assert blobs.copy_to(digest, target, mode=0o751) == store.Blob(digest, 18)
    finally:
        os.umask(old_umask)
    assert target.read_bytes() == b"#!/bin/sh\necho hi\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o751
    assert target.stat().st_ino != blobs.path_of(digest).stat().st_ino
    assert blobs.path_of(digest).stat().st_nlink == 1
    target.write_bytes(b"changed in the workspace")
    assert blobs.read_bytes(digest) == b"#!/bin/sh\necho hi\n"


def test_copy_to_replaces_a_link_or_hard_link_without_writing_through(
    blobs: store.BlobStore, tmp_path: Path
) -> None:
    digest = blobs.put_bytes(b"restored").digest
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"keep me")
    (tmp_path / "via-symlink").symlink_to(outside)
    os.link(outside, tmp_path / "via-hardlink")
    blobs.copy_to(digest, tmp_path / "via-symlink")
    blobs.copy_to(digest, tmp_path / "via-hardlink")
    assert outside.read_bytes() == b"keep me"
    assert not (tmp_path / "via-symlink").is_symlink()
    assert (tmp_path / "via-symlink").read_bytes() == b"restored"
    assert (tmp_path / "via-hardlink").read_bytes() == b"restored"


def test_only_blobs_untouched_since_the_cutoff_are_deleted(blobs: store.BlobStore) -> None:
    old = blobs.put_bytes(b"old").digest
    young = blobs.put_bytes(b"young").digest
    os.utime(blobs.path_of(old), (1_000_000, 1_000_000))
    cutoff = time.time_ns() - 3600 * 10**9
    assert blobs.delete_if_unused(young, cutoff) is None
    assert blobs.delete_if_unused(old, cutoff) == 3
    assert blobs.delete_if_unused(old, cutoff) is None
    assert sorted(digest for digest, _ in blobs.iter_blobs()) == [young]
    assert os.listdir(blobs.root / "tmp") == []


def test_copy_to_replaces_a_directory_tree(blobs: store.BlobStore, tmp_path: Path) -> None:
    digest = blobs.put_bytes(b"file now").digest
    (tmp_path / "was-a-dir" / "deep").mkdir(parents=True)
    (tmp_path / "was-a-dir" / "deep" / "old.txt").write_text("old")
    blobs.copy_to(digest, tmp_path / "was-a-dir")
    assert (tmp_path / "was-a-dir").read_bytes() == b"file now"


def test_copy_files_copies_many_with_their_modes(blobs: store.BlobStore, tmp_path: Path) -> None:
    small = blobs.put_bytes(b"small")
    large_content = os.urandom(1024 * 1024 + 3)
    large = blobs.put_bytes(large_content)
    blobs.copy_files(
        [
            (small.digest, str(tmp_path / "a"), 0o600, small.size),
            (large.digest, tmp_path / "b", 0o755, large.size),
            (small.digest, str(tmp_path / "c"), 0o444, small.size),
        ]
    )
    assert [(tmp_path / name).read_bytes() for name in "abc"] == [
        b"small",
        large_content,
        b"small",
    ]
    assert [stat.S_IMODE((tmp_path / name).stat().st_mode) for name in "abc"] == [
        0o600,
        0o755,
        0o444,
    ]


def test_a_blob_longer_than_its_recorded_size_is_still_verified(
    blobs: store.BlobStore, tmp_path: Path
) -> None:
    digest = blobs.put_bytes(b"twelve bytes").digest
    corrupt(blobs, digest, b"twelve bytes and a tail")
    with pytest.raises(errors.CorruptBlob):
        blobs.copy_files([(digest, tmp_path / "out", 0o644, 12)])
    assert not (tmp_path / "out").exists()
