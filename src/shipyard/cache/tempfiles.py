"""Files being written, and the clean-up of those a killed process left behind.

Every write to the store goes to a temporary file in ``root/tmp`` (the same filesystem as the
store, so publishing it is one atomic ``rename``). Its writer holds an exclusive ``flock`` on it
from creation until the rename. The kernel drops that lock when the process dies, however it dies
(``kill -9`` included), so a temporary file that nobody holds a lock on belongs to a dead writer:
:meth:`TempArea.clean_stale` removes exactly those, and never a file a live writer is using.

This module never publishes a file its writer did not finish, and never guesses from ages or pids.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import stat
from pathlib import Path


class TempFile:
    """One file being written: write to ``fd``, then :meth:`publish` it or :meth:`discard` it."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self.fd = fd

    def write(self, data: bytes | memoryview) -> None:
        """Append all of ``data``."""
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]

    def publish(self, destination: str | os.PathLike[str], *, mode: int, durable: bool) -> None:
        """Make the finished file appear at ``destination`` in one step (replacing what is there).

        With ``durable``, its bytes reach the disk before its name does, so a power cut leaves the
        old file or the new one, never a torn one. Parent directories are created when missing.
        """
        try:
            os.fchmod(self.fd, mode)
            if durable:
                os.fsync(self.fd)
            try:
                os.replace(self.path, destination)
            except FileNotFoundError:
                Path(destination).parent.mkdir(parents=True, exist_ok=True)
                os.replace(self.path, destination)
        except BaseException:
            self.discard()
            raise
        os.close(self.fd)  # releases the lock only once the name is gone
        self.fd = -1

    def discard(self) -> None:
        """Remove the unfinished file. Safe to call twice."""
        if self.fd < 0:
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        os.close(self.fd)
        self.fd = -1

    def __enter__(self) -> TempFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.discard()


class TempArea:
    """The directory of files being written. Safe for many processes and threads at once."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def create(self) -> TempFile:
        """A new, empty, locked temporary file (mode 0600) that only this caller writes."""
        while True:
            path = self.directory / f"{os.getpid()}-{os.urandom(8).hex()}.tmp"
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            except FileNotFoundError:
                self.directory.mkdir(parents=True, exist_ok=True)
                continue
            # A cleaner may have locked the file between open and flock; it then removed it, and
            # our lock is on a nameless file. Check the name still leads to our file, else retry.
            fcntl.flock(fd, fcntl.LOCK_EX)
            if _same_file(path, fd):
                return TempFile(path, fd)
            os.close(fd)

    def discard_tree(self, path: Path) -> None:
        """Remove the directory tree at ``path`` so that it vanishes in one step.

        It is renamed in here first, then deleted; a crash meanwhile leaves a stale directory
        here, which :meth:`clean_stale` removes.
        """
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self.directory.mkdir(parents=True, exist_ok=True)
            aside = self.directory / f"{os.getpid()}-{os.urandom(8).hex()}.trash"
            try:
                os.rename(path, aside)
            except FileNotFoundError:
                return
            shutil.rmtree(aside)
        finally:
            os.close(fd)

    def clean_stale(self) -> int:
        """Remove the temporary files no live process is writing; how many were removed."""
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return 0
        return sum(_remove_if_unlocked(self.directory / name) for name in names)


def _remove_if_unlocked(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:  # gone already
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a live writer holds it
        if not _same_file(path, fd):
            return False  # published (renamed away) while we looked
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
        return True
    finally:
        os.close(fd)


def _same_file(path: Path, fd: int) -> bool:
    try:
        named = os.lstat(path)
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (named.st_ino, named.st_dev) == (opened.st_ino, opened.st_dev)
