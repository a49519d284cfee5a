"""What the deploy benchmarks share: the example app in a scratch repository, a private server
started and always stopped, releases built ahead, and the counting load generator.

The load generator and the server helpers are the ones the deploy tests use (tests/deploy/load.py,
tests/server/harness.py), so a benchmark and a test count requests the same way. Every address is
loopback; every loop is bounded in count and time.
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.deploy.load import Load, Tally  # noqa: E402
from tests.e2e.conftest import git  # noqa: E402
from tests.server.harness import api, cleanup, free_port, shipyard, webapp_repo  # noqa: E402

__all__ = ["Load", "Tally", "api", "median", "percentile", "scratch_app"]

PROJECT = """\
app: webapp
services:
  web:
    run: exec python -m webapp
    http: {{ health: /healthz }}
    readiness: {{ http: /readyz, interval: 100ms, start_period: 20s }}
    replicas: 2
    stop_grace: 5s
    env: {{ WEBAPP_DRAIN_SECONDS: 5, WEBAPP_ACCESS_LOG: 0{env} }}
environments:
  staging:
    port: {port}
    config: {{ WEBAPP_VERSION: {version} }}
    deploy: {{ strategy: {strategy}, deadline: {deadline}, drain_timeout: 10s, keep_previous: 10m }}
"""


@dataclass
class App:
    """The example app in a scratch repository, deployed to ``staging`` on ``port``."""

    repo: Path
    home: Path
    port: int
    strategy: str
    deadline: str
    env: str
    counter: int = 0

    def text(self, version: str, env: str | None = None) -> str:
        return PROJECT.format(
            port=self.port,
            version=version,
            strategy=self.strategy,
            deadline=self.deadline,
            env=self.env if env is None else env,
        )

    def release(self, version: str, env: str | None = None) -> str:
        """Commit a new version and build its release; its id."""
        (self.repo / "shipyard.yaml").write_text(self.text(version, env))
        git(self.repo, "commit", "-qam", version)
        created = shipyard("release", "create", "-q", cwd=self.repo, home=self.home)
        if created.returncode != 0:
            raise RuntimeError(f"release create failed: {created.stderr}")
        return created.stdout.strip().splitlines()[-1]

    def deploy(self, release: str, *args: str) -> tuple[float, str, str, int]:
        """``shipyard deploy staging --release ID ...``: wall seconds, stdout, stderr, status."""
        started = time.monotonic()
        done = shipyard(
            "deploy",
            "staging",
            "--release",
            release,
            *args,
            cwd=self.repo,
            home=self.home,
            timeout=300,
        )
        return time.monotonic() - started, done.stdout, done.stderr, done.returncode

    def cli(self, *args: str) -> tuple[float, str, str, int]:
        started = time.monotonic()
        done = shipyard(*args, cwd=self.repo, home=self.home, timeout=300)
        return time.monotonic() - started, done.stdout, done.stderr, done.returncode


@contextlib.contextmanager
def scratch_app(
    strategy: str = "rolling", *, deadline: str = "30s", env: str = ""
) -> Iterator[App]:
    """A home, a repository and a server with release v0 deployed; all stopped afterwards."""
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-deploy-") as scratch:
        root = Path(scratch)
        home = root / "home"
        home.mkdir()
        port = free_port()
        app = App(root / "repo", home, port, strategy, deadline, env)
        webapp_repo(app.repo, app.text("v0"))
        with cleanup(home):
            first = app.release("v0-first")
            _, out, err, status = app.deploy(first)
            if status != 0:
                raise RuntimeError(f"the first deploy failed: {err or out}")
            yield app


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def machine() -> str:
    import os
    import platform

    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load {os.getloadavg()[0]:.1f}"
    )
