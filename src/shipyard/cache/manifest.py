"""Snapshot manifests: a directory tree's entries as canonical JSON bytes. Pure: no I/O.

A manifest is one JSON object, written exactly one way (entries sorted by path, keys sorted, no
spaces, UTF-8), so the same tree always gives the same bytes and therefore the same digest::

    {"shipyard-snapshot":1,"entries":[
      {"kind":"dir","mode":493,"path":"build"},
      {"digest":"9f86d0...","kind":"file","mode":420,"path":"build/app.bin","size":4},
      {"kind":"symlink","path":"build/latest","target":"app.bin"}]}

(shown wrapped; the real bytes have no line breaks). ``mode`` holds the permission bits
(``0o777``); a symbolic link has none. Paths are relative, ``/``-separated and never contain
``..``, ``.`` or empty parts; no entry may lie under a symbolic link of the same manifest. Decoding
checks all of it, so a manifest that would write outside its destination is refused before any
byte is written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any, Literal

from shipyard.cache import errors
from shipyard.core.frozen import frozen

Kind = Literal["file", "dir", "symlink"]
MAGIC = b'{"shipyard-snapshot":1,"entries":['
PERMISSION_BITS = 0o777
_DIGEST = re.compile(r"[0-9a-f]{64}")


@frozen
class Entry:
    """One file, directory or symbolic link of a snapshot."""

    path: str
    """Relative to the snapshot's base, ``/``-separated."""
    kind: Kind
    mode: int = 0
    """Permission bits (``0o755``); 0 for a symbolic link."""
    size: int = 0
    """Bytes of a file; 0 otherwise."""
    digest: str | None = None
    """The blob holding a file's content; None otherwise."""
    target: str | None = None
    """What a symbolic link points at, as written in the link; None otherwise."""


def encode(entries: Iterable[Entry]) -> bytes:
    """The canonical manifest of ``entries`` (in any order)."""
    rows = [_row(entry) for entry in sorted(entries, key=lambda entry: entry.path)]
    body = ",".join(
        json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False) for row in rows
    )
    return MAGIC + body.encode("utf-8") + b"]}"


def is_manifest(head: bytes) -> bool:
    """Whether bytes starting with ``head`` can be a manifest (used to find a blob's children)."""
    return head.startswith(MAGIC)


def decode(data: bytes) -> tuple[Entry, ...]:
    """The entries of a manifest, checked; ``SnapshotError`` or ``UnsafePath`` when invalid."""
    if not is_manifest(data):
        raise errors.SnapshotError("the blob is not a snapshot manifest")
    try:
        document = json.loads(data)
    except ValueError as error:
        raise errors.SnapshotError(f"the snapshot manifest is not valid JSON: {error}") from None
    rows = document.get("entries") if isinstance(document, dict) else None
    if not isinstance(rows, list):
        raise errors.SnapshotError("the snapshot manifest has no list of entries")
    entries = tuple(_entry(row, index) for index, row in enumerate(rows))
    _check_tree(entries)
    return entries


def check_path(path: str) -> str:
    """``path`` when it is a safe relative path; ``UnsafePath`` otherwise."""
    parts = path.split("/")
    if not path or "\0" in path or any(part in ("", ".", "..") for part in parts):
        raise errors.UnsafePath(
            f"snapshot path {path!r} is not a plain relative path",
            hint="snapshot paths are relative, use '/', and have no '.', '..' or empty parts",
        )
    return path


def _row(entry: Entry) -> dict[str, Any]:
    if entry.kind == "file":
        return {
            "path": entry.path,
            "kind": "file",
            "mode": entry.mode,
            "size": entry.size,
            "digest": entry.digest,
        }
    if entry.kind == "dir":
        return {"path": entry.path, "kind": "dir", "mode": entry.mode}
    return {"path": entry.path, "kind": "symlink", "target": entry.target}


def _entry(row: object, index: int) -> Entry:
    if not isinstance(row, dict):
        raise _invalid(index, "is not an object")
    path = row.get("path")
    if not isinstance(path, str):
        raise _invalid(index, "has no path")
    check_path(path)
    kind = row.get("kind")
    if kind == "symlink":
        target = row.get("target")
        if not isinstance(target, str) or not target or "\0" in target:
            raise _invalid(index, "is a symbolic link without a target")
        return Entry(path, "symlink", target=target)
    mode = row.get("mode")
    if type(mode) is not int or not 0 <= mode <= PERMISSION_BITS:
        raise _invalid(index, "has no valid mode")
    if kind == "dir":
        return Entry(path, "dir", mode=mode)
    if kind != "file":
        raise _invalid(index, f"has an unknown kind {kind!r}")
    size, digest = row.get("size"), row.get("digest")
    if type(size) is not int or size < 0:
        raise _invalid(index, "is a file without a valid size")
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise _invalid(index, "is a file without a valid digest")
    return Entry(path, "file", mode=mode, size=size, digest=digest)


def _check_tree(entries: tuple[Entry, ...]) -> None:
    """No path twice; nothing under a file or a symbolic link of the same snapshot."""
    kinds: dict[str, Kind] = {}
    for entry in entries:
        if entry.path in kinds:
            raise errors.SnapshotError(f"the snapshot manifest lists {entry.path!r} twice")
        kinds[entry.path] = entry.kind
    for entry in entries:
        parent = entry.path
        while "/" in parent:
            parent = parent.rsplit("/", 1)[0]
            kind = kinds.get(parent)
            if kind == "symlink":
                raise errors.UnsafePath(
                    f"snapshot path {entry.path!r} lies under the symbolic link {parent!r}",
                    hint="a snapshot never writes through a link; this manifest was not made by "
                    "save_tree",
                )
            if kind == "file":
                raise errors.SnapshotError(
                    f"snapshot path {entry.path!r} lies under the file {parent!r}"
                )


def _invalid(index: int, problem: str) -> errors.SnapshotError:
    return errors.SnapshotError(f"snapshot manifest entry {index} {problem}")
