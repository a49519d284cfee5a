"""Named cache entries: (namespace, key) -> a snapshot or blob digest, with LRU eviction.

Each entry is a small JSON file, ``root/entries/<namespace>/<sha256(key)>.json``, written to a
temporary file and renamed into place, so a reader sees the old record or the new one, never half
of one. The file holds the namespace, key, digest, size, creation time (seconds since the epoch),
optional metadata (any JSON value) and ``refs`` (other digests the entry keeps alive); its
modification time is the entry's last use, refreshed by :meth:`CacheIndex.get` without rewriting
the record.

``prune`` evicts least recently used entries until the blobs the remaining ones need fit a size
cap, then deletes every blob no entry needs (mark and sweep), sparing blobs touched within a grace
period: a save in progress has stored its blobs but not yet its entry. ``enforce_cap`` does this
only when the recorded sizes exceed the cap, and is meant to run after saves.

The index never decides what to cache or under which key: that is the runner's business.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import time
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shipyard.cache import errors, eviction, settings
from shipyard.cache import store as blobstore
from shipyard.core.frozen import frozen

_FORMAT = 1
_ENTRY_MODE = 0o644
_STAT_CACHE_DAYS = 30


@frozen
class CacheEntry:
    """One named entry."""

    namespace: str
    key: str
    digest: str
    """A snapshot's digest, or any blob's."""
    size: int
    """The bytes the entry holds, as its saver counted them (a snapshot's ``size``)."""
    created: float
    """Seconds since the epoch."""
    last_used: float
    """Seconds since the epoch: when it was stored or last read with ``get``."""
    metadata: Any = None
    """Any JSON value the saver attached."""
    refs: tuple[str, ...] = ()
    """Other digests (snapshots or blobs) this entry keeps from being collected."""


@frozen
class PruneReport:
    """What a prune did."""

    evicted: tuple[CacheEntry, ...] = ()
    """Entries removed to fit the cap, least recently used first."""
    broken: tuple[CacheEntry, ...] = ()
    """Entries removed because a blob they need is missing or corrupt."""
    blobs_deleted: int = 0
    bytes_freed: int = 0
    blobs_spared: int = 0
    """Blobs no entry needs that were kept: touched within the grace period (a save may be
    using them)."""
    bytes_spared: int = 0
    entries_kept: int = 0
    bytes_kept: int = 0
    """Bytes of the blobs the remaining entries need (each blob once)."""


class CacheIndex:
    """The named entries and the blob store under ``root``. Safe for many processes at once."""

    def __init__(self, root: Path, *, durable: bool = True) -> None:
        self.root = root
        self.store = blobstore.BlobStore(root, durable=durable)
        self.entries_dir = root / "entries"

    def put(
        self,
        namespace: str,
        key: str,
        digest: str,
        size: int,
        *,
        metadata: Any = None,
        refs: Sequence[str] = (),
    ) -> CacheEntry:
        """Name ``digest`` (already in the store) ``key`` in ``namespace``, replacing any entry."""
        for needed in (digest, *refs):
            if not self.store.touch(needed):
                raise errors.BlobNotFound(needed)
        now = time.time()
        entry = CacheEntry(namespace, key, digest, size, now, now, metadata, tuple(refs))
        record = {
            "format": _FORMAT,
            "namespace": namespace,
            "key": key,
            "digest": digest,
            "size": size,
            "created": now,
            "metadata": metadata,
            "refs": list(refs),
        }
        try:
            data = json.dumps(record, sort_keys=True, ensure_ascii=False).encode("utf-8")
        except (TypeError, ValueError) as error:
            raise errors.CacheError(
                f"cache entry {key!r}: metadata is not JSON: {error}",
                hint="pass plain dicts, lists, strings, numbers, booleans and None",
            ) from None
        path = self._path(namespace, key)
        with self.store.temp.create() as temp:
            temp.write(data)
            temp.publish(path, mode=_ENTRY_MODE, durable=self.store.durable)
        return entry

    def get(self, namespace: str, key: str) -> CacheEntry | None:
        """The entry, marked as used now; None when there is none or its blob is gone."""
        path = self._path(namespace, key)
        entry = _read(path)
        if entry is None:
            return None
        if not self.store.has(entry.digest):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            return None
        now_ns = time.time_ns()
        with contextlib.suppress(FileNotFoundError):
            os.utime(path, ns=(now_ns, now_ns))
        return dataclasses.replace(entry, last_used=now_ns / 1e9)

    def find_prefix(self, namespace: str, prefix: str) -> list[CacheEntry]:
        """Entries of ``namespace`` whose key starts with ``prefix``, newest first.

        Newest means most recently created, as ``restore-keys`` picks; ties go by key. Does not
        mark them used: ``get`` the one you restore.
        """
        found = [entry for entry in self.list(namespace) if entry.key.startswith(prefix)]
        return sorted(found, key=lambda entry: (-entry.created, entry.key))

    def list(self, namespace: str | None = None) -> list[CacheEntry]:
        """Every entry (of one namespace, when given), by namespace then key."""
        if namespace is not None:
            folders = [self.entries_dir / _folder(namespace)]
        else:
            folders = [Path(found.path) for found in _scandir(self.entries_dir) if found.is_dir()]
        entries = []
        for folder in folders:
            for found in _scandir(folder):
                if found.name.endswith(".json"):
                    entry = _read(Path(found.path))
                    if entry is not None:
                        entries.append(entry)
        return sorted(entries, key=lambda entry: (entry.namespace, entry.key))

    def remove(self, namespace: str, key: str) -> bool:
        """Remove the entry (its blobs go at the next prune); False when there was none."""
        try:
            os.unlink(self._path(namespace, key))
        except FileNotFoundError:
            return False
        return True

    def prune(
        self, max_bytes: int, *, grace_seconds: float = eviction.GRACE_SECONDS
    ) -> PruneReport:
        """Evict least recently used entries to fit ``max_bytes``; delete unneeded blobs."""
        self.store.temp.clean_stale()
        present = {digest: status.st_size for digest, status in self.store.iter_blobs()}
        marker = eviction.Marker(self.store, present)
        needs: dict[str, tuple[CacheEntry, frozenset[str]]] = {}
        broken = []
        for entry in sorted(self.list(), key=lambda entry: entry.last_used):
            blobs = marker.reachable((entry.digest, *entry.refs))
            if blobs is None:
                broken.append(entry)
                self._remove_if_unchanged(entry)
            else:
                needs[_name(entry)] = (entry, blobs)
        order = [(name, blobs) for name, (_, blobs) in needs.items()]
        evicted = [needs.pop(name)[0] for name in eviction.plan(order, present, max_bytes)]
        for entry in evicted:
            self._remove_if_unchanged(entry)
        keep = frozenset().union(*(blobs for _, blobs in needs.values()))
        swept = eviction.sweep(self.store, keep, grace_seconds)
        self._forget_old_stat_caches()
        shutil.rmtree(self.store.quarantine, ignore_errors=True)
        return PruneReport(
            evicted=tuple(evicted),
            broken=tuple(broken),
            blobs_deleted=swept.deleted,
            bytes_freed=swept.freed,
            blobs_spared=swept.spared,
            bytes_spared=swept.spared_bytes,
            entries_kept=len(needs),
            bytes_kept=sum(present[digest] for digest in keep),
        )

    def enforce_cap(self, max_bytes: int | None = None) -> PruneReport | None:
        """Prune when the entries' recorded sizes exceed the cap (default: from the environment).

        Cheap when under the cap: it reads the entry records, not the blobs. None when nothing
        had to be done.
        """
        cap = settings.max_bytes_from_env() if max_bytes is None else max_bytes
        if sum(entry.size for entry in self.list()) <= cap:
            return None
        return self.prune(cap)

    def clear(self) -> int:
        """Remove every entry, blob and stat cache; how many entries there were."""
        count = len(self.list())
        for folder in ("entries", "blobs", "stat", "quarantine"):
            self.store.temp.discard_tree(self.root / folder)
        return count

    def _path(self, namespace: str, key: str) -> Path:
        if not key:
            raise errors.CacheError("a cache key cannot be empty")
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        return self.entries_dir / _folder(namespace) / f"{digest}.json"

    def _remove_if_unchanged(self, entry: CacheEntry) -> None:
        """Remove the entry unless it was replaced since it was read."""
        path = self._path(entry.namespace, entry.key)
        current = _read(path)
        if current is not None and (current.digest, current.created) == (
            entry.digest,
            entry.created,
        ):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    def _forget_old_stat_caches(self) -> None:
        cutoff = time.time() - _STAT_CACHE_DAYS * 86400
        for found in _scandir(self.root / "stat"):
            with contextlib.suppress(FileNotFoundError):
                if found.stat().st_mtime < cutoff:
                    os.unlink(found.path)


def _folder(namespace: str) -> str:
    """The directory name of a namespace: the namespace, percent-encoded where unsafe."""
    if not namespace:
        raise errors.CacheError("a cache namespace cannot be empty")
    folder = urllib.parse.quote(namespace, safe="")
    if folder in (".", ".."):
        folder = folder.replace(".", "%2E")
    if len(folder) > 200:
        raise errors.CacheError(
            f"cache namespace {namespace[:40]!r}... is too long",
            hint="keep namespaces short (at most 200 characters once percent-encoded)",
        )
    return folder


def _read(path: Path) -> CacheEntry | None:
    try:
        with open(path, "rb") as file:
            data = file.read()
            last_used = os.fstat(file.fileno()).st_mtime_ns / 1e9
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        record = json.loads(data)
        return CacheEntry(
            namespace=str(record["namespace"]),
            key=str(record["key"]),
            digest=str(record["digest"]),
            size=int(record["size"]),
            created=float(record["created"]),
            last_used=last_used,
            metadata=record.get("metadata"),
            refs=tuple(str(ref) for ref in record.get("refs", ())),
        )
    except (ValueError, KeyError, TypeError):
        return None  # not ours or damaged: invisible, and removed by nothing but clear


def _name(entry: CacheEntry) -> str:
    return f"{entry.namespace}\0{entry.key}"


def _scandir(directory: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as found:
            return list(found)
    except (FileNotFoundError, NotADirectoryError):
        return []
