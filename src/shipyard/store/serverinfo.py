"""``$SHIPYARD_HOME/server.json``: how the command line finds and authenticates to the server.

The server writes it (mode 0600) once it listens, with its address, pid and a fresh random token,
and removes it when it stops; the CLI reads it. A file left behind by a server that was killed
names a pid that is gone (or is another program now), so ``read`` also checks the process.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path

from shipyard.core import errors
from shipyard.core.frozen import frozen
from shipyard.store import paths

PORT_VARIABLE = "SHIPYARD_SERVER_PORT"
ROUTER_HOST_PORT_VARIABLE = "SHIPYARD_ROUTER_HOST_PORT"
"""When set, the router also listens there and picks the environment by Host name."""
ROUTER_WORKERS_VARIABLE = "SHIPYARD_ROUTER_WORKERS"
ROUTER_METRICS_PORT_VARIABLE = "SHIPYARD_ROUTER_METRICS_PORT"
"""When set, the router serves its golden signals in Prometheus format there, on ``/metrics``."""
DEFAULT_PORT = 8700
DEFAULT_HOST = "127.0.0.1"


@frozen
class ServerInfo:
    host: str
    port: int
    pid: int
    token: str
    started_at: float

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def default_port() -> int:
    configured = os.environ.get(PORT_VARIABLE, "")
    return int(configured) if configured.isdigit() else DEFAULT_PORT


@frozen
class RouterSettings:
    """How the server runs the router, from ``SHIPYARD_ROUTER_*`` variables."""

    workers: int = 1
    host_port: int | None = None
    """The shared listener that picks the environment by ``Host: <env>.<app>.localhost``."""
    metrics_port: int | None = None
    """The listener of the router's ``/metrics`` (Prometheus text format)."""


def router_settings(environ: Mapping[str, str] | None = None) -> RouterSettings:
    """The router's settings from the environment; a malformed value is a usage error."""
    values = os.environ if environ is None else environ
    workers = _number(values, ROUTER_WORKERS_VARIABLE, 1, 64)
    return RouterSettings(
        workers=1 if workers is None else workers,
        host_port=_number(values, ROUTER_HOST_PORT_VARIABLE, 1, 65535),
        metrics_port=_number(values, ROUTER_METRICS_PORT_VARIABLE, 1, 65535),
    )


def _number(values: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    raw = values.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise errors.UsageError(
            f"{name}={raw!r} is not a number from {low} to {high}",
            hint=f"set {name} to a number from {low} to {high}, or unset it",
        )
    return int(raw)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def write(home: Path, info: ServerInfo) -> None:
    """Write the file atomically, readable by its owner only."""
    home.mkdir(parents=True, exist_ok=True)
    target = paths.server_file(home)
    temporary = target.with_suffix(f".{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(asdict(info), handle, indent=2)
        handle.write("\n")
    os.chmod(temporary, 0o600)
    os.replace(temporary, target)


def read(home: Path) -> ServerInfo | None:
    """The running server's details, or None when no server of this home is running."""
    try:
        data = json.loads(paths.server_file(home).read_text(encoding="utf-8"))
        info = ServerInfo(
            host=str(data["host"]),
            port=int(data["port"]),
            pid=int(data["pid"]),
            token=str(data["token"]),
            started_at=float(data["started_at"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return info if is_server_process(info.pid) else None


def remove(home: Path, pid: int) -> None:
    """Remove the file if it still belongs to server ``pid``."""
    target = paths.server_file(home)
    with contextlib.suppress(OSError, ValueError, KeyError):
        if json.loads(target.read_text(encoding="utf-8"))["pid"] == pid:
            target.unlink()


def is_server_process(pid: int) -> bool:
    """Whether ``pid`` is alive and is a Shipyard server (not a pid reused by another program)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            argv = handle.read().split(b"\0")
        with open(f"/proc/{pid}/stat", "rb") as handle:
            state = handle.read().rsplit(b")", 1)[-1].split()[0]
    except OSError:
        return False
    return state != b"Z" and b"shipyard.server" in argv
