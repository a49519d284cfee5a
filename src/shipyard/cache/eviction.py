"""Which entries to evict to fit a size cap, and the mark-and-sweep of blobs no entry needs.

``plan`` is pure: given entries from least to most recently used, each with the set of blobs it
needs, and the size of every blob, it picks the fewest least-recently-used entries whose removal
brings the bytes still needed under the cap. Blobs shared by several entries count once, and only
when the last entry needing them goes. ``reachable`` finds the blobs an entry needs (its own,
and every file of a snapshot it names); ``sweep`` deletes the others, except blobs touched within
the grace period, which may belong to a save still in progress.

Never removes entries itself: the index decides; this module only computes and deletes blobs.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from shipyard.cache import errors, manifest, snapshots
from shipyard.cache import store as blobstore
from shipyard.core.frozen import frozen

GRACE_SECONDS = 3600


def plan(
    least_recent_first: Sequence[tuple[str, frozenset[str]]],
    blob_sizes: Mapping[str, int],
    max_bytes: int,
) -> list[str]:
    """The names of the entries to evict, oldest first, so the needed bytes fit ``max_bytes``.

    ``least_recent_first`` pairs each entry's name with the blobs it needs. Pure.
    """
    needed: Counter[str] = Counter()
    for _, blobs in least_recent_first:
        needed.update(blobs)
    total = sum(blob_sizes.get(digest, 0) for digest in needed)
    evicted: list[str] = []
    for name, blobs in least_recent_first:
        if total <= max_bytes:
            break
        evicted.append(name)
        for digest in blobs:
            needed[digest] -= 1
            if needed[digest] == 0:
                del needed[digest]
                total -= blob_sizes.get(digest, 0)
    return evicted


class Marker:
    """Finds the blobs entries need, reading each snapshot manifest once."""

    def __init__(self, store: blobstore.BlobStore, present: Mapping[str, int]) -> None:
        self.store = store
        self.present = present
        self._children: dict[str, frozenset[str] | None] = {}

    def reachable(self, roots: Iterable[str]) -> frozenset[str] | None:
        """Every blob needed to use ``roots``; None when one is missing or corrupt."""
        found: set[str] = set()
        for root in roots:
            children = self._expand(root)
            if children is None:
                return None
            found.add(root)
            found.update(children)
        return frozenset(found)

    def _expand(self, digest: str) -> frozenset[str] | None:
        if digest not in self._children:
            self._children[digest] = self._read_children(digest)
        return self._children[digest]

    def _read_children(self, digest: str) -> frozenset[str] | None:
        if digest not in self.present:
            return None
        if not _starts_like_manifest(self.store, digest):
            return frozenset()
        try:
            snapshot = snapshots.load(self.store, digest)
        except errors.CacheError:
            return None
        files = frozenset(entry.digest for entry in snapshot.entries if entry.digest is not None)
        if not files <= self.present.keys():
            return None
        return files


@frozen
class Swept:
    """What a sweep deleted, and what it spared because it was touched within the grace period."""

    deleted: int = 0
    freed: int = 0
    spared: int = 0
    spared_bytes: int = 0


def sweep(store: blobstore.BlobStore, keep: frozenset[str], grace_seconds: float) -> Swept:
    """Delete every blob not in ``keep`` and untouched for ``grace_seconds``."""
    used_since_ns = time.time_ns() - int(grace_seconds * 1e9)
    deleted = freed = spared = spared_bytes = 0
    for digest, status in list(store.iter_blobs()):
        if digest in keep:
            continue
        size = store.delete_if_unused(digest, used_since_ns)
        if size is not None:
            deleted += 1
            freed += size
        elif store.has(digest):
            spared += 1
            spared_bytes += status.st_size
    return Swept(deleted, freed, spared, spared_bytes)


def _starts_like_manifest(store: blobstore.BlobStore, digest: str) -> bool:
    try:
        with open(store.path_of(digest), "rb") as file:
            return manifest.is_manifest(file.read(len(manifest.MAGIC)))
    except FileNotFoundError:
        return False
