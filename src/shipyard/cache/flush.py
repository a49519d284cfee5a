"""Making many new files durable at once: one ``syncfs`` instead of an ``fsync`` per file.

An ``fsync`` waits for a journal commit, so flushing ten thousand small files one by one takes
seconds to minutes; ``syncfs`` (Linux) flushes the whole filesystem once, in about the time of a
single ``fsync``. Where ``syncfs`` is missing (macOS, the BSDs), each file gets its ``fsync``.
Called before new blobs are renamed into place, so no blob's name can outlive a power cut without
its bytes. Never renames or writes anything itself.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence


def flush(fds: Sequence[int]) -> None:
    """Make the data and size of the files open as ``fds`` (all on one filesystem) durable."""
    syncfs = _syncfs()
    if len(fds) == 1 or syncfs is None:
        for fd in fds:
            os.fsync(fd)
    elif fds:
        syncfs(fds[0])


@functools.cache
def _syncfs() -> Callable[[int], None] | None:
    import ctypes  # here, not at the top: a run imports this module but seldom flushes

    try:
        function = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int

    def syncfs(fd: int) -> None:
        if function(fd) != 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code))

    return syncfs
