"""Blobs: immutable byte strings filed under their SHA-256, verified whenever they are read.

Layout under the store's root::

    blobs/ab/cdef...   the blob whose SHA-256 is abcdef... (hex), mode 0444, never modified
    tmp/               writes in progress (``tempfiles``); a dead writer's files go on open
    quarantine/        blobs whose bytes did not match their name, kept for inspection

A blob is written to a temporary file, flushed to disk and renamed into place, so it appears whole
or not at all. Every read hashes the bytes it returns (or copies) and compares them with the name;
a mismatch quarantines the blob and raises ``CorruptBlob``. Putting a blob that already exists only
refreshes its modification time, which is what garbage collection's grace period looks at.

The store never hard-links a blob out of itself (a later write to the linked file would corrupt
it), never changes a published blob's bytes, and knows nothing of snapshots, names or eviction.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from shipyard.cache import copying, errors, flush, tempfiles
from shipyard.core.frozen import frozen

BLOB_MODE = 0o444
_DIGEST = re.compile(r"[0-9a-f]{64}")
_BATCH_FILES = 64  # new files held open (and locked) before one flush publishes them
_READ_FLAGS = os.O_RDONLY | os.O_CLOEXEC

StrPath = copying.StrPath


@frozen
class Blob:
    """A stored blob: its SHA-256 (64 lowercase hex digits) and its size in bytes."""

    digest: str
    size: int


class BlobStore:
    """The blobs under ``root``. Safe for many threads and processes at once.

    ``durable`` (the default) flushes each new blob to the disk before publishing it, so even a
    power cut cannot leave a published blob with missing bytes; without it only a crash of the
    process is survived (what tests and throw-away stores need).
    """

    def __init__(self, root: Path, *, durable: bool = True) -> None:
        self.root = root
        self.durable = durable
        self.blobs = root / "blobs"
        self.quarantine = root / "quarantine"
        self.temp = tempfiles.TempArea(root / "tmp")
        self.blobs.mkdir(parents=True, exist_ok=True)
        self.temp.clean_stale()
        self._blobs = str(self.blobs)

    def path_of(self, digest: str) -> Path:
        """Where the blob ``digest`` lives (whether or not it is there)."""
        return Path(self._location(digest))

    def has(self, digest: str) -> bool:
        """Whether the blob is in the store (its content is checked only when read)."""
        return os.path.isfile(self._location(digest))

    def touch(self, digest: str) -> bool:
        """Mark the blob as just used, so garbage collection spares it; False when absent."""
        try:
            os.utime(self._location(digest))
        except FileNotFoundError:
            return False
        return True

    def put_bytes(self, data: bytes) -> Blob:
        """Store ``data``; an existing blob is only touched."""
        with _Batch(self) as batch:
            blob = batch.add_bytes(data)
            batch.publish()
        return blob

    def put_file(self, path: StrPath) -> Blob:
        """Store the regular file at ``path`` (never following a symbolic link).

        The file is hashed first and copied only when its blob is missing. A file that changes
        while it is stored is stored as the copy saw it, under the copy's own digest.
        """
        return self.put_files([path])[0]

    def put_files(self, paths: Sequence[StrPath]) -> list[Blob]:
        """Store several files as ``put_file`` does, flushing the new blobs to disk together.

        One flush for the lot is what makes saving thousands of small files durable and fast.
        """
        blobs: list[Blob] = []
        for start in range(0, len(paths), _BATCH_FILES):
            with _Batch(self) as batch:
                blobs.extend(batch.add_file(path) for path in paths[start : start + _BATCH_FILES])
                batch.publish()
        return blobs

    def read_bytes(self, digest: str) -> bytes:
        """The blob's content, verified; ``BlobNotFound`` or ``CorruptBlob`` otherwise."""
        fd = self._open(digest)
        try:
            data = copying.read_all(fd, os.fstat(fd).st_size)
        finally:
            os.close(fd)
        actual = hashlib.sha256(data).hexdigest()
        if actual != digest:
            self._quarantine(digest)
            raise errors.CorruptBlob(digest, actual)
        return data

    def copy_to(
        self,
        digest: str,
        destination: StrPath,
        *,
        mode: int | None = None,
        size: int | None = None,
    ) -> Blob:
        """Write the blob to a new file at ``destination``, verifying it as it is copied.

        Whatever was at ``destination`` (a file, a symbolic link, a directory tree) is replaced,
        never written through. ``mode`` sets the new file's permission bits exactly (default: the
        umask's). ``size``, when the caller knows it, saves a system call per file. On a corrupt
        blob the new file is removed and ``CorruptBlob`` raised.
        """
        copied = self._copy(digest, destination, mode, size, copying.thread_buffer())
        return Blob(digest, copied)

    def copy_files(self, copies: Sequence[tuple[str, StrPath, int, int]]) -> None:
        """``copy_to`` for many ``(digest, destination, mode, size)``, with less work per file."""
        buffer = copying.thread_buffer()
        for digest, destination, mode, size in copies:
            self._copy(digest, destination, mode, size, buffer)

    def iter_blobs(self) -> Iterator[tuple[str, os.stat_result]]:
        """Every blob's digest and status (size, modification time), in no particular order."""
        for fan in _scandir(self.blobs):
            if len(fan.name) != 2 or not fan.is_dir(follow_symlinks=False):
                continue
            for entry in _scandir(Path(fan.path)):
                digest = fan.name + entry.name
                if _DIGEST.fullmatch(digest):
                    with contextlib.suppress(FileNotFoundError):
                        yield digest, entry.stat(follow_symlinks=False)

    def delete_if_unused(self, digest: str, used_since_ns: int) -> int | None:
        """Delete the blob unless it was touched at or after ``used_since_ns`` (epoch ns).

        Returns the bytes freed, or None when the blob was kept or is absent. Safe against a save
        that touches the blob at the same moment: the blob is moved aside first, checked again,
        and moved back if the save got there in between.
        """
        path = self.path_of(digest)
        try:
            fd = os.open(path, _READ_FLAGS | os.O_NOFOLLOW)
        except FileNotFoundError:
            return None
        try:
            if os.fstat(fd).st_mtime_ns >= used_since_ns:
                return None
            fcntl.flock(fd, fcntl.LOCK_EX)  # so the temp cleaner leaves it to us meanwhile
            aside = self.temp.directory / f"{os.getpid()}-{os.urandom(8).hex()}.gc.tmp"
            self.temp.directory.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(path, aside)
            except FileNotFoundError:
                return None
            status = os.fstat(fd)
            if status.st_mtime_ns >= used_since_ns:  # touched by a save just now: keep it
                os.rename(aside, path)
                return None
            os.unlink(aside)
            return status.st_size
        finally:
            os.close(fd)

    def _copy(
        self,
        digest: str,
        destination: StrPath,
        mode: int | None,
        size: int | None,
        buffer: memoryview,
    ) -> int:
        source = self._open(digest)
        try:
            target = copying.create_replacing(destination)
            try:
                if size is not None and size < copying.CHUNK:
                    # One read of one byte more than expected: getting exactly the expected
                    # count means the end. The common case for the many small files of a tree.
                    count = os.readv(source, [buffer[: size + 1]])
                    chunk = buffer[:count]
                    if count != size or os.write(target, chunk) != count:
                        os.lseek(source, 0, os.SEEK_SET)
                        os.ftruncate(target, 0)
                        os.lseek(target, 0, os.SEEK_SET)
                        actual, size = copying.copy_hashing(source, target, None)
                    else:
                        actual = hashlib.sha256(chunk).hexdigest()
                else:
                    actual, size = copying.copy_hashing(source, target, size)
                if mode is not None:
                    os.fchmod(target, mode)
            finally:
                os.close(target)
        finally:
            os.close(source)
        if actual != digest:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(destination)
            self._quarantine(digest)
            raise errors.CorruptBlob(digest, actual)
        return size

    def _location(self, digest: str) -> str:
        if not _DIGEST.fullmatch(digest):
            raise errors.CacheError(
                f"{digest!r} is not a blob digest",
                hint="a digest is the SHA-256 of the content: 64 lowercase hexadecimal digits",
            )
        return f"{self._blobs}/{digest[:2]}/{digest[2:]}"

    def _open(self, digest: str) -> int:
        try:
            return os.open(self._location(digest), _READ_FLAGS)
        except FileNotFoundError:
            raise errors.BlobNotFound(digest) from None

    def _quarantine(self, digest: str) -> None:
        path = self.path_of(digest)
        self.quarantine.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(path, self.quarantine / f"{digest}.{os.urandom(4).hex()}")
        except FileNotFoundError:
            pass  # someone else moved it first
        except OSError:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


class _Batch:
    """New blobs staged in locked temporary files, published together after one flush."""

    def __init__(self, store: BlobStore) -> None:
        self.store = store
        self.staged: dict[str, tempfiles.TempFile] = {}

    def add_bytes(self, data: bytes | memoryview) -> Blob:
        digest = hashlib.sha256(data).hexdigest()
        if digest not in self.staged and not self.store.touch(digest):
            temp = self.store.temp.create()
            self.staged[digest] = temp
            temp.write(data)
        return Blob(digest, len(data))

    def add_file(self, path: StrPath) -> Blob:
        try:
            fd = os.open(path, _READ_FLAGS | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError as error:
            raise _unreadable(path, error) from error
        try:
            status = os.fstat(fd)
            if not stat.S_ISREG(status.st_mode):
                raise errors.CacheError(f"cannot store {path}: not a regular file")
            if status.st_size < copying.CHUNK:
                buffer = copying.thread_buffer()
                count = os.readv(fd, [buffer[: status.st_size + 1]])
                if count <= status.st_size:  # a short read of a regular file is its end
                    return self.add_bytes(buffer[:count])
                os.lseek(fd, 0, os.SEEK_SET)  # it grew meanwhile
            return self._add_large(fd)
        except OSError as error:
            raise _unreadable(path, error) from error
        finally:
            os.close(fd)

    def _add_large(self, fd: int) -> Blob:
        digest, size = copying.hash_fd(fd)  # hash first: most large files are already stored
        if digest in self.staged or self.store.touch(digest):
            return Blob(digest, size)
        os.lseek(fd, 0, os.SEEK_SET)
        temp = self.store.temp.create()
        try:
            digest, size = copying.copy_hashing(fd, temp.fd, None)
        except BaseException:
            temp.discard()
            raise
        if digest in self.staged:
            temp.discard()
        else:
            self.staged[digest] = temp
        return Blob(digest, size)

    def publish(self) -> None:
        if self.store.durable:
            flush.flush([temp.fd for temp in self.staged.values()])
        for digest, temp in self.staged.items():
            temp.publish(self.store._location(digest), mode=BLOB_MODE, durable=False)

    def __enter__(self) -> _Batch:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for temp in self.staged.values():
            temp.discard()  # nothing for a published one


def _scandir(directory: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as found:
            return list(found)
    except FileNotFoundError:
        return []


def _unreadable(path: StrPath, error: OSError) -> errors.CacheError:
    return errors.CacheError(
        f"cannot read {path}: {error.strerror or error}",
        hint="make the file readable, or leave it out of what is cached",
    )
