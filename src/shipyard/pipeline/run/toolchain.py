"""A cheap fingerprint of this machine's toolchain, for cache keys."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path


def digest() -> str:
    """Platform, interpreter, and when PATH's tools last changed.

    Installing or upgrading a tool changes the modification time of the directory it lands in
    (a PATH entry, pyenv's versions), so the fingerprint changes with it.
    """
    places = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    places.append(str(pyenv))
    stamps = []
    for place in places:
        try:
            stamps.append((place, os.stat(place).st_mtime_ns))
        except OSError:
            stamps.append((place, 0))
    system = os.uname()
    facts = {
        # Not platform.platform(): it starts `uname -p` to learn the processor's name.
        "platform": [system.sysname, system.release, system.version, system.machine, _libc()],
        "python": sys.version,
        "places": stamps,
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def _libc() -> str:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):  # pragma: no cover - not glibc
        return ""
