"""The errors the content-addressed store raises. Pure: no I/O.

    ExecutionError                 (shipyard.core.errors)
     └── CacheError                the store could not do what was asked
          ├── BlobNotFound         no blob has that digest (evicted, cleared, or never stored)
          ├── CorruptBlob          a blob's bytes do not match its digest; it was quarantined
          ├── UnsafePath           a snapshot path would land outside its destination
          └── SnapshotError        a tree could not be read or written (unreadable file, ...)

A corrupt or missing blob is a cache miss to the runner, never a failed job: callers catch
``CacheError`` and carry on without the cache.
"""

from __future__ import annotations

from shipyard.core import errors


class CacheError(errors.ExecutionError):
    """The cache store could not save, restore or read something."""


class BlobNotFound(CacheError):
    """No blob with the requested digest is in the store."""

    def __init__(self, digest: str) -> None:
        super().__init__(
            f"no blob {digest} in the cache store",
            hint="the entry was probably evicted or cleared; save it again",
        )
        self.digest = digest


class CorruptBlob(CacheError):
    """A blob's content does not hash to its name. The blob has been moved out of the store."""

    def __init__(self, digest: str, actual: str) -> None:
        super().__init__(
            f"blob {digest} is corrupt: its content hashes to {actual}",
            hint="the damaged blob was quarantined; the next save stores it again",
        )
        self.digest = digest
        self.actual = actual


class UnsafePath(CacheError):
    """A path in a snapshot is absolute, has ``..`` in it, or would be written through a link."""


class SnapshotError(CacheError):
    """A directory tree could not be saved or restored: a file that cannot be read, a path
    outside the base directory, a manifest that is not one."""
