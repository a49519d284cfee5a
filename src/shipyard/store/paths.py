"""Where Shipyard keeps its files: ``$SHIPYARD_HOME`` and the places inside it. No I/O.

``$SHIPYARD_HOME``, else ``$XDG_DATA_HOME/shipyard``, else ``~/.local/share/shipyard``::

    shipyard.db           the SQLite store (unless SHIPYARD_DATABASE_URL names another)
    server.json           the running server's port, pid and token (mode 0600)
    server.log            the server's own log
    releases/<app>/<id>/  immutable releases; releases/<app>/.staging/ holds builds in progress
    instances/<env>/      the logs of each environment's instances
"""

from __future__ import annotations

import os
from pathlib import Path

HOME_VARIABLE = "SHIPYARD_HOME"
DATABASE_VARIABLE = "SHIPYARD_DATABASE_URL"


def home() -> Path:
    """``$SHIPYARD_HOME``, else ``$XDG_DATA_HOME/shipyard``, else ``~/.local/share/shipyard``."""
    configured = os.environ.get(HOME_VARIABLE)
    if configured:
        return Path(configured).absolute()
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data).absolute() / "shipyard"


def releases(root: Path) -> Path:
    return root / "releases"


def server_file(root: Path) -> Path:
    return root / "server.json"


def server_log(root: Path) -> Path:
    return root / "server.log"


def instance_logs(root: Path, environment: str) -> Path:
    return root / "instances" / environment


def database_url(root: Path) -> str:
    """``$SHIPYARD_DATABASE_URL``, else SQLite at ``<home>/shipyard.db``."""
    configured = os.environ.get(DATABASE_VARIABLE)
    if configured:
        return configured
    return f"sqlite:///{root / 'shipyard.db'}"
