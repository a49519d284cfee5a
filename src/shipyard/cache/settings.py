"""Where the cache store lives and how big it may grow, read from the environment.

``$SHIPYARD_HOME/cache`` (else ``$XDG_DATA_HOME/shipyard/cache``, else
``~/.local/share/shipyard/cache``) and ``$SHIPYARD_CACHE_MAX_SIZE`` (default 10 GiB). Sizes are
written as a whole number with an optional binary suffix: ``500M``, ``2G``, ``1.5GiB``. Reads the
environment only; never touches the disk.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

from shipyard.core import errors

MAX_SIZE_VARIABLE = "SHIPYARD_CACHE_MAX_SIZE"
DEFAULT_MAX_BYTES = 10 * 1024**3

_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?", re.IGNORECASE)
_SIZE_HINT = "write a size such as 500M, 2G or 10GiB (K, M, G and T are powers of 1024)"


def default_home() -> Path:
    """``$SHIPYARD_HOME``, else ``$XDG_DATA_HOME/shipyard``, else ``~/.local/share/shipyard``."""
    configured = os.environ.get("SHIPYARD_HOME")
    if configured:
        return Path(configured)
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "shipyard"


def default_root() -> Path:
    """The cache store's directory: ``cache`` under Shipyard's home."""
    return default_home() / "cache"


def parse_size(text: str, *, source: str = "size") -> int:
    """Bytes in ``text`` (``2G`` is 2 GiB); ``UsageError`` naming ``source`` when unreadable."""
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise errors.UsageError(f"{source}: {text!r} is not a size", hint=_SIZE_HINT)
    number, unit = match.groups()
    return math.floor(float(number) * _UNITS[unit.upper()])


def max_bytes_from_env() -> int:
    """The size cap: ``$SHIPYARD_CACHE_MAX_SIZE`` when set, else 10 GiB."""
    configured = os.environ.get(MAX_SIZE_VARIABLE, "").strip()
    if not configured:
        return DEFAULT_MAX_BYTES
    return parse_size(configured, source=MAX_SIZE_VARIABLE)


def format_size(size: int) -> str:
    """``512 B``, ``1.5 KiB``, ``200.0 MiB``, ``10.0 GiB``: what a person reads in a listing."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    return f"{value:.1f} {unit}"
