"""Moving bytes between open files while hashing them: the store's inner loops.

Reads go into one buffer per thread (a fresh buffer per file costs page faults on every file);
every function returns the SHA-256 of exactly the bytes it moved. ``create_replacing`` makes a new
file where something else may be, removing it rather than writing through it. Knows nothing of
the store's layout and never decides whether bytes are valid: callers compare digests.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading

CHUNK = 1 << 20
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_buffers = threading.local()

StrPath = str | os.PathLike[str]


def read_all(fd: int, expected: int) -> bytes:
    """Everything from ``fd``; one system call when the file has ``expected`` bytes or fewer."""
    first = os.read(fd, expected + 1)
    if len(first) <= expected:
        return first  # a short read of a regular file is its end
    parts = [first]
    while chunk := os.read(fd, CHUNK):
        parts.append(chunk)
    return b"".join(parts)


def hash_fd(fd: int) -> tuple[str, int]:
    """``(digest, size)`` of what is left to read from ``fd``."""
    buffer = thread_buffer()[:CHUNK]
    digest = hashlib.sha256()
    size = 0
    while count := os.readv(fd, [buffer]):
        digest.update(buffer[:count])
        size += count
    return digest.hexdigest(), size


def copy_hashing(source: int, target: int, expected: int | None) -> tuple[str, int]:
    """Copy ``source`` to ``target``, hashing what is written; ``(digest, size)``.

    Reads into a buffer reused by the thread (a fresh one per file costs page faults). With the
    ``expected`` size, a small file takes one read: asking for one byte more than expected and
    getting exactly the expected count means the end was reached.
    """
    buffer = thread_buffer()
    digest = hashlib.sha256()
    size = 0
    want = expected + 1 if expected is not None and expected < CHUNK else CHUNK
    while count := os.readv(source, [buffer[:want]]):
        chunk = buffer[:count]
        digest.update(chunk)
        write_all(target, chunk)
        size += count
        if count < want and expected is not None and size == expected:
            break
        want = CHUNK
    return digest.hexdigest(), size


def thread_buffer() -> memoryview:
    """This thread's read buffer: ``CHUNK`` bytes and one more."""
    buffer: memoryview | None = getattr(_buffers, "buffer", None)
    if buffer is None:
        buffer = _buffers.buffer = memoryview(bytearray(CHUNK + 1))
    return buffer


def write_all(fd: int, data: bytes | memoryview) -> None:
    """Write all of ``data``, however many system calls it takes."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def create_replacing(path: StrPath) -> int:
    """A new file at ``path`` for writing; whatever was there is removed, never followed."""
    try:
        return os.open(path, _CREATE_FLAGS, 0o666)
    except FileExistsError:
        pass
    try:
        os.unlink(path)
    except IsADirectoryError:
        shutil.rmtree(path)
    except FileNotFoundError:
        pass
    return os.open(path, _CREATE_FLAGS, 0o666)
