"""Supervisor fixtures: a copy of the example app as a release tree, a store, a supervisor."""

from __future__ import annotations

import asyncio
import shutil
import textwrap
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from shipyard.runtime.supervisor import instance, supervisor
from shipyard.spec import project_loader
from shipyard.store import database, records
from tests.conftest import REPO_ROOT

FAST = instance.Policy(backoff_initial=0.05, backoff_max=0.4, log_max_bytes=4096, log_keep=2)


@pytest.fixture(scope="session")
def webapp_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("release") / "app"
    shutil.copytree(
        REPO_ROOT / "examples" / "webapp" / "webapp",
        tree / "webapp",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return tree


@pytest.fixture
def store(tmp_path: Path) -> Iterator[database.Store]:
    opened = database.open_database(f"sqlite:///{tmp_path / 'shipyard.db'}")
    yield opened
    opened.close()


@pytest.fixture
def workload(webapp_tree: Path, store: database.Store) -> Callable[..., supervisor.Workload]:
    def make(text: str, environment: str = "staging", release: str = "r1") -> supervisor.Workload:
        loaded = project_loader.load_project(textwrap.dedent(text), path="shipyard.yaml")
        records.sync_releases(
            store,
            [
                records.ReleaseRecord(
                    id=release, app=loaded.app, commit="c", tree="t", ref="HEAD",
                    project_digest="d", status="built", created_at=0.0, build_seconds=0.0,
                    size_bytes=0, failed_service=None,
                )
            ],
        )  # fmt: skip
        records.set_environment(
            store, environment, app=loaded.app, release_id=release, desired="up"
        )
        return supervisor.Workload(environment, loaded.app, release, loaded, webapp_tree)

    return make


def run(
    scenario: Callable[[supervisor.Supervisor], Awaitable[None]],
    store: database.Store,
    home: Path,
    timeout: float = 60,
) -> None:
    """Run ``scenario`` with a started supervisor in a fresh event loop; close it after."""

    async def main() -> None:
        started = supervisor.Supervisor(store, home, policy=FAST)
        started.start()
        try:
            async with asyncio.timeout(timeout):
                await scenario(started)
        finally:
            await asyncio.wait_for(started.close(), 30)

    asyncio.run(main())
