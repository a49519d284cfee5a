"""What each file of a tree hashed to last time, so an unchanged file is not read again.

A saved tree's files are looked up by their path under the base directory and by what ``lstat``
says about them: size, modification and change times (nanoseconds) and inode. If all match, the
digest recorded last time is used without reading the file. The change time cannot be set by a
program, so a file rewritten with its old modification time restored still misses. A file modified
less than two seconds before a save began is never recorded: it could be written again within the
same clock tick, leaving its times unchanged (git's "racily clean" problem).

One small JSON file per base directory under ``root/stat/``. Losing it costs only time; it is
never trusted for anything but skipping a read, and the blob must still be in the store.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from pathlib import Path

from shipyard.cache import tempfiles

_RACY_NS = 2_000_000_000
_FORMAT = 1

# (size, mtime_ns, ctime_ns, inode, digest)
_Record = tuple[int, int, int, int, str]


class StatCache:
    """The recorded digests of the files under one base directory."""

    def __init__(self, path: Path, records: dict[str, _Record], started_ns: int) -> None:
        self.path = path
        self._old = records
        self._new: dict[str, _Record] = {}
        self._started_ns = started_ns

    @classmethod
    def load(cls, root: Path, base: Path) -> StatCache:
        """The cache of ``base`` kept under the store ``root``; empty when missing or unreadable."""
        started_ns = time.time_ns()
        key = hashlib.sha256(os.fsencode(os.path.abspath(base))).hexdigest()[:32]
        path = root / "stat" / f"{key}.json"
        records: dict[str, _Record] = {}
        with contextlib.suppress(OSError, ValueError, TypeError):
            document = json.loads(path.read_bytes())
            if document.get("format") == _FORMAT:
                records = {
                    name: tuple(row) for name, row in document["files"].items() if _valid(row)
                }
        return cls(path, records, started_ns)

    def lookup(self, relative: str, status: os.stat_result) -> str | None:
        """The digest recorded for this file in this state, or None."""
        record = self._old.get(relative)
        if record is None or record[:4] != _key(status):
            return None
        return record[4]

    def record(self, relative: str, status: os.stat_result, digest: str) -> None:
        """Remember the digest of a file read in this save (unless it is too fresh to trust)."""
        if status.st_mtime_ns < self._started_ns - _RACY_NS:
            self._new[relative] = (*_key(status), digest)

    def save(self, temp: tempfiles.TempArea) -> None:
        """Write the records of this save, replacing the old ones, when anything changed."""
        if self._new == self._old:
            return
        document = {"format": _FORMAT, "files": self._new}
        with temp.create() as file:
            file.write(json.dumps(document, separators=(",", ":")).encode("utf-8"))
            file.publish(self.path, mode=0o644, durable=False)


def _key(status: os.stat_result) -> tuple[int, int, int, int]:
    return (status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)


def _valid(row: object) -> bool:
    return (
        isinstance(row, list)
        and len(row) == 5
        and all(type(value) is int for value in row[:4])
        and isinstance(row[4], str)
        and len(row[4]) == 64
        and all(char in "0123456789abcdef" for char in row[4])
    )
