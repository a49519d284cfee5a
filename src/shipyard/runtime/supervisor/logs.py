"""Reading instance logs back: the last lines, and following them across restarts and rotation.

An instance's log is ``instances/<env>/<service>.<slot>.log``; every run of the slot appends to
it, so following the file follows the slot across restarts. When the log writer rotates it (the
file is renamed away and a new one begun), the follower finishes the old file and moves on.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from shipyard.runtime.supervisor import supervisor
from shipyard.store import paths

POLL = 0.1


@dataclass(slots=True)
class _Follower:
    name: str
    path: Path
    position: int = 0
    inode: int | None = None
    pending: bytes = b""


def log_files(home: Path, environment: str, service: str | None = None) -> list[tuple[str, Path]]:
    """(``web.1``, path) for each instance log of the environment, by service and slot."""
    folder = paths.instance_logs(home, environment)
    found = []
    for path in folder.glob("*.log") if folder.is_dir() else []:
        name = path.name[: -len(".log")]
        owner, _, slot = name.rpartition(".")
        if not slot.isdigit() or (service is not None and owner != service):
            continue
        found.append(((owner, int(slot)), name, path))
    return [(name, path) for _, name, path in sorted(found)]


async def read_logs(
    home: Path,
    environment: str,
    service: str | None = None,
    *,
    tail: int = 100,
    follow: bool = False,
) -> AsyncIterator[str]:
    """Lines ``web.1 | text``: the last ``tail`` of each log, then (``follow``) new ones."""
    followers = []
    for name, path in log_files(home, environment, service):
        for line in supervisor.tail_lines(path, tail) if tail > 0 else []:
            yield f"{name} | {line}\n"
        info = _stat(path)
        followers.append(
            _Follower(name, path, info.st_size if info else 0, info.st_ino if info else None)
        )
    while follow:
        known = {f.name for f in followers}
        for name, path in log_files(home, environment, service):
            if name not in known:  # an instance that started since
                followers.append(_Follower(name, path))
        for follower in followers:
            for line in _new_lines(follower):
                yield f"{follower.name} | {line}\n"
        await asyncio.sleep(POLL)


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


def _new_lines(follower: _Follower) -> list[str]:
    info = _stat(follower.path)
    if info is None:
        return []
    lines: list[str] = []
    if follower.inode is not None and info.st_ino != follower.inode:
        # Rotated: read what is left of the old file (now LOG.1), then start the new one.
        lines.extend(_read_from(follower, Path(f"{follower.path}.1"), rotated=True))
        follower.position, follower.pending = 0, b""
    elif info.st_size < follower.position:
        follower.position = 0
    follower.inode = info.st_ino
    lines.extend(_read_from(follower, follower.path, rotated=False))
    return lines


def _read_from(follower: _Follower, path: Path, *, rotated: bool) -> list[str]:
    try:
        with path.open("rb") as handle:
            handle.seek(follower.position)
            data = follower.pending + handle.read()
            follower.position = handle.tell()
    except OSError:
        return []
    *complete, rest = data.split(b"\n")
    follower.pending = b"" if rotated else rest
    lines = [line.decode("utf-8", "replace") for line in complete]
    if rotated and rest:
        lines.append(rest.decode("utf-8", "replace"))
    return lines
