"""Snapshot manifests: one canonical encoding, and decoding that refuses anything unsafe."""

from __future__ import annotations

import json

import pytest

from shipyard.cache import errors, manifest

DIGEST = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
ENTRIES = [
    manifest.Entry("build/latest", "symlink", target="app.bin"),
    manifest.Entry("build", "dir", mode=0o755),
    manifest.Entry("build/app.bin", "file", mode=0o644, size=4, digest=DIGEST),
]
CANONICAL = (
    b'{"shipyard-snapshot":1,"entries":['
    b'{"kind":"dir","mode":493,"path":"build"},'
    b'{"digest":"' + DIGEST.encode() + b'","kind":"file","mode":420,"path":"build/app.bin",'
    b'"size":4},'
    b'{"kind":"symlink","path":"build/latest","target":"app.bin"}]}'
)


def test_encoding_is_canonical_whatever_the_order() -> None:
    assert manifest.encode(ENTRIES) == CANONICAL
    assert manifest.encode(reversed(ENTRIES)) == CANONICAL


def test_decode_gives_back_the_entries_sorted() -> None:
    assert manifest.decode(CANONICAL) == tuple(sorted(ENTRIES, key=lambda entry: entry.path))


def test_non_ascii_paths_are_kept_as_utf8() -> None:
    entries = [manifest.Entry("données/é.txt", "file", mode=0o600, size=0, digest=DIGEST)]
    encoded = manifest.encode(entries)
    assert "données/é.txt".encode() in encoded
    assert manifest.decode(encoded) == tuple(entries)


def test_is_manifest_looks_at_the_first_bytes() -> None:
    assert manifest.is_manifest(CANONICAL)
    assert not manifest.is_manifest(b'{"entries":[]}')


def _document(*rows: object) -> bytes:
    body = ",".join(json.dumps(row) for row in rows)
    return manifest.MAGIC + body.encode() + b"]}"


@pytest.mark.parametrize(
    "path", ["../etc/passwd", "/etc/passwd", "a/../../b", "a//b", "./a", "a/.", "", "a/\0b"]
)
def test_paths_that_could_escape_are_refused(path: str) -> None:
    data = _document({"path": path, "kind": "dir", "mode": 0o755})
    with pytest.raises(errors.UnsafePath) as caught:
        manifest.decode(data)
    assert caught.value.render() == (
        f"snapshot path {path!r} is not a plain relative path\n"
        "  hint: snapshot paths are relative, use '/', and have no '.', '..' or empty parts"
    )


def test_an_entry_under_a_link_of_the_same_snapshot_is_refused() -> None:
    data = _document(
        {"path": "out", "kind": "symlink", "target": "/etc"},
        {"path": "out/passwd", "kind": "file", "mode": 0o644, "size": 0, "digest": DIGEST},
    )
    with pytest.raises(errors.UnsafePath) as caught:
        manifest.decode(data)
    assert caught.value.headline() == (
        "snapshot path 'out/passwd' lies under the symbolic link 'out'"
    )


def test_an_entry_under_a_file_or_twice_is_refused() -> None:
    file = {"path": "a", "kind": "file", "mode": 0o644, "size": 0, "digest": DIGEST}
    with pytest.raises(errors.SnapshotError) as caught:
        manifest.decode(_document(file, {**file, "path": "a/b"}))
    assert caught.value.headline() == "snapshot path 'a/b' lies under the file 'a'"
    with pytest.raises(errors.SnapshotError) as caught:
        manifest.decode(_document(file, file))
    assert caught.value.headline() == "the snapshot manifest lists 'a' twice"


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("text", "is not an object"),
        ({"kind": "dir", "mode": 1}, "has no path"),
        ({"path": "a", "kind": "pipe", "mode": 0o644}, "has an unknown kind 'pipe'"),
        ({"path": "a", "kind": "dir"}, "has no valid mode"),
        ({"path": "a", "kind": "dir", "mode": 0o10000}, "has no valid mode"),
        ({"path": "a", "kind": "dir", "mode": True}, "has no valid mode"),
        ({"path": "a", "kind": "symlink"}, "is a symbolic link without a target"),
        (
            {"path": "a", "kind": "file", "mode": 0o644, "digest": DIGEST},
            "is a file without a valid size",
        ),
        (
            {"path": "a", "kind": "file", "mode": 0o644, "size": 1, "digest": "abc"},
            "is a file without a valid digest",
        ),
    ],
)
def test_invalid_entries_are_named_by_position(row: object, problem: str) -> None:
    with pytest.raises(errors.SnapshotError) as caught:
        manifest.decode(_document({"path": "ok", "kind": "dir", "mode": 0o755}, row))
    assert caught.value.headline() == f"snapshot manifest entry 1 {problem}"


def test_what_is_not_a_manifest_is_refused() -> None:
    with pytest.raises(errors.SnapshotError) as caught:
        manifest.decode(b"hello")
    assert caught.value.headline() == "the blob is not a snapshot manifest"
    with pytest.raises(errors.SnapshotError) as caught:
        manifest.decode(manifest.MAGIC + b"oops")
    assert caught.value.headline().startswith("the snapshot manifest is not valid JSON: ")
