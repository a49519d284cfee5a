"""Helpers for tests that run the real server: a private home, the CLI in a subprocess, a
server started and always stopped (with its router and instances), free ports."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from shipyard.store import serverinfo
from tests.conftest import (
    REPO_ROOT,
    free_port,  # noqa: F401 (re-exported: the tests import it from here)
)


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def environment(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SHIPYARD_DATABASE_URL"}
    env.update({"SHIPYARD_HOME": str(home), "SHIPYARD_SERVER_PORT": "0", **(extra or {})})
    return env


def shipyard(
    *args: str,
    cwd: Path,
    home: Path,
    timeout: float = 120,
    env: Mapping[str, str] | None = None,
) -> Result:
    done = subprocess.run(
        [sys.executable, "-m", "shipyard", *args],
        cwd=cwd,
        env=environment(home, env),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def server_info(home: Path) -> serverinfo.ServerInfo:
    info = serverinfo.read(home)
    assert info is not None, "no server is running"
    return info


def api(home: Path, method: str, path: str, **kwargs: Any) -> httpx.Response:
    info = server_info(home)
    headers = {"Authorization": f"Bearer {info.token}"}
    return httpx.request(method, info.url + path, headers=headers, timeout=60, **kwargs)


def wait_for(condition: Callable[[], bool], timeout: float = 20, what: str = "it") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except OSError:
        return False


def processes_of(home: Path) -> list[int]:
    """Processes started for this home: instances (by their environment) and the router."""
    needle = f"SHIPYARD_HOME={home}".encode()
    socket_path = str(home / "router.sock").encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                environ = handle.read().split(b"\0")
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read()
        except OSError:
            continue
        if (needle in environ or socket_path in cmdline) and alive(int(entry)):
            found.append(int(entry))
    return found


@contextlib.contextmanager
def cleanup(home: Path, env: Mapping[str, str] | None = None) -> Iterator[None]:
    """Whatever a test does, stop the server afterwards and kill what it left behind."""
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            shipyard("server", "stop", cwd=home, home=home, timeout=120, env=env)
        for pid in processes_of(home):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def webapp_service(*, replicas: int, stop_grace: str, drain_seconds: int) -> str:
    """The ``app:`` and ``services:`` lines of a shipyard.yaml running the example app.

    Braces are doubled: the result is the start of a ``str.format`` template, to which a test
    adds its own ``environments:`` (and ``flags:``) with its ports as fields.
    """
    return (
        "app: webapp\n"
        "services:\n"
        "  web:\n"
        "    build: python -m compileall -q webapp\n"
        "    run: exec python -m webapp\n"
        "    http: {{ health: /healthz }}\n"
        "    readiness: {{ http: /readyz, interval: 100ms, start_period: 8s }}\n"
        f"    replicas: {replicas}\n"
        f"    stop_grace: {stop_grace}\n"
        f"    env: {{{{ WEBAPP_DRAIN_SECONDS: {drain_seconds}, WEBAPP_ACCESS_LOG: 0 }}}}\n"
    )


def webapp_repo(root: Path, project: str) -> Path:
    """A git repository holding the example app and ``project`` as its shipyard.yaml."""
    from tests.e2e.conftest import git

    shutil.copytree(
        REPO_ROOT / "examples" / "webapp" / "webapp",
        root / "webapp",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    (root / "shipyard.yaml").write_text(project, encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "webapp")
    return root
