"""Directory snapshots: a tree of files, directories and symbolic links as one digest.

``save_tree`` stores each file's content as a blob and the tree's shape as a manifest blob (see
``manifest``); the manifest's digest names the snapshot. Unchanged files are stored once across
all snapshots: a file is hashed first and copied only when its blob is missing, and a stat cache
skips even the hashing for files whose size, times and inode are unchanged since the last save of
the same base directory. ``restore_tree`` writes a snapshot back under a destination, verifying
every byte, with modes and links as they were, and replacing what is in the way.

Symbolic links are stored as links and never followed, neither when saving nor when restoring; a
snapshot never writes outside its destination. Sockets, pipes and devices are skipped and listed
in ``Snapshot.skipped``. Modification times and owners are not kept.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Callable, Iterator, Sequence
from concurrent import futures
from pathlib import Path
from typing import TypeVar

from shipyard.cache import errors, manifest, statcache
from shipyard.cache import store as blobstore
from shipyard.core.frozen import frozen

_BATCH = 32  # files per task handed to a worker thread
_Item = TypeVar("_Item")
_Result = TypeVar("_Result")


@frozen
class Snapshot:
    """A stored tree: the digest of its manifest and the manifest's entries."""

    digest: str
    entries: tuple[manifest.Entry, ...]
    skipped: tuple[str, ...] = ()
    """Paths that were not saved because they are sockets, pipes or devices."""

    @property
    def size(self) -> int:
        """Bytes of all its files (two files with the same content count twice)."""
        return sum(entry.size for entry in self.entries)

    @property
    def file_count(self) -> int:
        """How many files the snapshot holds."""
        return sum(1 for entry in self.entries if entry.kind == "file")


def default_workers() -> int:
    """Threads that copy files: a few per core, as disk waits overlap better than they add."""
    return min(8, 2 * (os.cpu_count() or 1))


def save_tree(
    store: blobstore.BlobStore,
    base: Path,
    paths: Sequence[Path],
    *,
    use_stat_cache: bool = True,
    workers: int | None = None,
) -> Snapshot:
    """Store ``paths`` (files or directories, absolute or relative to ``base``) recursively.

    Entries are named relative to ``base``. A path outside ``base`` or one that does not exist is
    a ``SnapshotError``, as is a directory that cannot be read; a file that cannot be read (or
    vanishes while the save runs) is a ``CacheError`` naming it. Nothing is named until the
    manifest is stored, so a failed save leaves only blobs that garbage collection removes.
    """
    walked = _Walk(base)
    for path in paths:
        walked.add(path)
    cache = statcache.StatCache.load(store.root, base) if use_stat_cache else None
    entries = walked.entries
    pending: list[tuple[str, os.stat_result]] = []
    for relative, status in walked.files:
        digest = cache.lookup(relative, status) if cache else None
        if digest is not None and store.touch(digest):
            entries.append(_file_entry(relative, status.st_mode, status.st_size, digest))
            if cache:
                cache.record(relative, status, digest)
        else:
            pending.append((relative, status))

    def put(batch: Sequence[tuple[str, os.stat_result]]) -> list[manifest.Entry]:
        blobs = store.put_files([f"{walked.base}/{relative}" for relative, _ in batch])
        return [
            _file_entry(relative, status.st_mode, blob.size, blob.digest)
            for (relative, status), blob in zip(batch, blobs, strict=True)
        ]

    for (relative, status), entry in zip(pending, _parallel(put, pending, workers), strict=True):
        entries.append(entry)
        if cache and entry.size == status.st_size:
            assert entry.digest is not None
            cache.record(relative, status, entry.digest)
    stored = store.put_bytes(manifest.encode(entries))
    if cache:
        cache.save(store.temp)
    return Snapshot(stored.digest, tuple(sorted(entries, key=_path)), tuple(walked.skipped))


def load(store: blobstore.BlobStore, digest: str) -> Snapshot:
    """The snapshot ``digest``, its manifest verified and checked."""
    return Snapshot(digest, manifest.decode(store.read_bytes(digest)))


def restore_tree(
    store: blobstore.BlobStore, snapshot_digest: str, dest: Path, *, workers: int | None = None
) -> Snapshot:
    """Write the snapshot under ``dest`` (created if missing), replacing what is in the way.

    Directories of the snapshot replace files or links at their place; a directory the snapshot
    only passes through (it lies between ``dest`` and a saved path) must be a real directory, or
    ``UnsafePath`` is raised rather than writing through a link.
    """
    snapshot = load(store, snapshot_digest)
    explicit = {entry.path: entry for entry in snapshot.entries if entry.kind == "dir"}
    root = os.fspath(dest)

    def make(batch: Sequence[str]) -> list[None]:
        for directory in batch:
            _make_directory(root, directory, explicit=directory in explicit)
        return []

    try:
        dest.mkdir(parents=True, exist_ok=True)
        for level in _directories(snapshot.entries):  # each level once its parents exist
            for _ in _parallel(make, level, workers):
                pass
    except OSError as error:
        raise _restore_error(dest, error) from error
    files = [entry for entry in snapshot.entries if entry.kind == "file"]

    def write(batch: Sequence[manifest.Entry]) -> list[None]:
        copies = [
            (entry.digest or "", f"{root}/{entry.path}", entry.mode, entry.size) for entry in batch
        ]
        try:
            store.copy_files(copies)
        except OSError as error:
            raise _restore_error(Path(error.filename or dest), error) from error
        return []

    for _ in _parallel(write, files, workers):
        pass
    try:
        for entry in snapshot.entries:
            if entry.kind == "symlink":
                assert entry.target is not None
                _clear(dest / entry.path)
                os.symlink(entry.target, dest / entry.path)
        for path in sorted(explicit, reverse=True):  # children first: a read-only parent last
            os.chmod(dest / path, explicit[path].mode)
    except OSError as error:
        raise _restore_error(dest, error) from error
    return snapshot


class _Walk:
    """The entries found under the given paths, with the files still to be read."""

    def __init__(self, base: Path) -> None:
        self.base = os.path.abspath(base)
        self.entries: list[manifest.Entry] = []
        self.files: list[tuple[str, os.stat_result]] = []
        self.skipped: list[str] = []
        self._seen: set[str] = set()

    def add(self, path: Path) -> None:
        absolute = os.path.abspath(os.path.join(self.base, path))
        relative = os.path.relpath(absolute, self.base)
        if relative == ".." or relative.startswith(("../", "/")):
            raise errors.SnapshotError(
                f"{path} is not under {self.base}",
                hint="save paths inside the base directory, or choose a base that contains them",
            )
        try:
            status = os.lstat(absolute)
        except FileNotFoundError:
            raise errors.SnapshotError(
                f"cannot save {absolute}: no such file or directory",
                hint="save only paths that exist",
            ) from None
        except OSError as error:
            raise _unreadable(absolute, error) from error
        if relative == ".":
            self._walk_directory(absolute, "")
        else:
            self._visit(absolute, relative, status)

    def _visit(self, absolute: str, relative: str, status: os.stat_result) -> None:
        if relative in self._seen:
            return
        self._seen.add(relative)
        mode = status.st_mode
        if stat.S_ISREG(mode):
            self.files.append((relative, status))
        elif stat.S_ISDIR(mode):
            self.entries.append(manifest.Entry(relative, "dir", mode=_permissions(mode)))
            self._walk_directory(absolute, relative + "/")
        elif stat.S_ISLNK(mode):
            try:
                target = os.readlink(absolute)
            except OSError as error:
                raise _unreadable(absolute, error) from error
            self.entries.append(manifest.Entry(relative, "symlink", target=target))
        else:
            self.skipped.append(relative)

    def _walk_directory(self, directory: str, prefix: str) -> None:
        try:
            with os.scandir(directory) as found:
                children = list(found)
        except OSError as error:
            raise _unreadable(directory, error) from error
        for child in children:
            try:
                status = child.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # removed while we looked
            self._visit(child.path, prefix + child.name, status)


def _parallel(
    work: Callable[[Sequence[_Item]], list[_Result]],
    items: Sequence[_Item],
    workers: int | None,
) -> Iterator[_Result]:
    """``work`` over batches of ``items`` in a few threads, results in order of ``items``.

    The first error stops the work (batches not yet started are dropped) and is raised.
    """
    batches = [items[start : start + _BATCH] for start in range(0, len(items), _BATCH)]
    count = min(workers or default_workers(), len(batches))
    if count <= 1:
        for batch in batches:
            yield from work(batch)
        return
    with futures.ThreadPoolExecutor(count, thread_name_prefix="shipyard-cache") as pool:
        try:
            for results in pool.map(work, batches):
                yield from results
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise


def _directories(entries: Sequence[manifest.Entry]) -> list[list[str]]:
    """Every directory the entries need (their own and those they lie in), level by level."""
    needed: set[str] = set()
    for entry in entries:
        if entry.kind == "dir":
            needed.add(entry.path)
        parent = entry.path
        while "/" in parent:
            parent = parent.rsplit("/", 1)[0]
            if parent in needed:
                break
            needed.add(parent)
    levels: dict[int, list[str]] = {}
    for path in sorted(needed):
        levels.setdefault(path.count("/"), []).append(path)
    return [levels[depth] for depth in sorted(levels)]


def _make_directory(root: str, relative: str, *, explicit: bool) -> None:
    path = f"{root}/{relative}"
    try:
        os.mkdir(path)
        return
    except FileExistsError:
        pass
    status = os.lstat(path)
    if stat.S_ISDIR(status.st_mode):
        if status.st_mode & 0o700 != 0o700:
            os.chmod(path, stat.S_IMODE(status.st_mode) | 0o700)  # writable while we fill it
        return
    if not explicit:
        what = "a symbolic link" if stat.S_ISLNK(status.st_mode) else "not a directory"
        raise errors.UnsafePath(
            f"cannot restore into {path}: it is {what}",
            hint="a snapshot never writes through links; remove it or restore elsewhere",
        )
    os.unlink(path)
    os.mkdir(path)


def _clear(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except IsADirectoryError:
        shutil.rmtree(path)


def _file_entry(relative: str, mode: int, size: int, digest: str) -> manifest.Entry:
    return manifest.Entry(relative, "file", mode=_permissions(mode), size=size, digest=digest)


def _permissions(mode: int) -> int:
    return stat.S_IMODE(mode) & manifest.PERMISSION_BITS


def _path(entry: manifest.Entry) -> str:
    return entry.path


def _unreadable(path: str, error: OSError) -> errors.SnapshotError:
    return errors.SnapshotError(
        f"cannot read {path}: {error.strerror or error}",
        hint="make it readable, or leave it out of what is cached",
    )


def _restore_error(path: Path, error: OSError) -> errors.SnapshotError:
    return errors.SnapshotError(
        f"cannot restore into {path}: {error.strerror or error}",
        hint="check the destination's permissions and free space",
    )
