"""A throw-away PostgreSQL server for tests: ``initdb`` and ``pg_ctl`` into a temporary directory.

It listens only on a Unix socket inside that directory, so tests never fight over a TCP port.
As root (CI), the server runs as the ``postgres`` system user, since ``initdb`` refuses root;
that user is created when missing. `make test` installs Debian's ``postgresql`` package first
(scripts/test-deps.sh), so the binaries are always there.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

SERVER_USER = "postgres"


def binaries() -> Path:
    """The newest installed PostgreSQL's bin directory."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parent.parent.name.split(".")[0]),
    )
    if not found:
        raise RuntimeError(
            "PostgreSQL is not installed: run `bash scripts/test-deps.sh` "
            "(or `apt-get install postgresql`) and try again"
        )
    return Path(found[-1]).parent


def _server_user() -> pwd.struct_passwd:
    """The ``postgres`` system user, created when missing (only needed as root)."""
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/bin/false", SERVER_USER],
            check=True,
        )
        return pwd.getpwnam(SERVER_USER)


def _as_server_user(argv: list[str]) -> list[str]:
    return ["runuser", "-u", SERVER_USER, "--", *argv] if os.geteuid() == 0 else argv


@contextlib.contextmanager
def running_server() -> Iterator[str]:
    """Start a server; yields the base URL (database ``postgres``); stops and removes it after."""
    bin_dir = binaries()
    root = Path(tempfile.mkdtemp(prefix="shipyard-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        entry = _server_user()
        os.chown(root, entry.pw_uid, entry.pw_gid)
    root.chmod(0o755)
    user = SERVER_USER if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    subprocess.run(
        _as_server_user(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                user,
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ]
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )
    options = f"-k {root} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
    subprocess.run(
        _as_server_user(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(root / "server.log"),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
        timeout=90,
    )
    try:
        yield f"postgresql://{user}@/postgres?host={root}"
    finally:
        subprocess.run(
            _as_server_user(
                [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
            ),
            check=False,
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


def create_database(base_url: str, name: str) -> str:
    """A new empty database on the server; returns its URL."""
    import psycopg

    with psycopg.connect(base_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return base_url.replace("@/postgres?", f"@/{name}?")
