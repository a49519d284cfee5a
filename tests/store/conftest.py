"""The store's tests run against both databases: SQLite in a temporary directory, and a real
PostgreSQL server started for the session (see ``postgres.py``)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.store import postgres

_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    with postgres.running_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shipyard.db'}"
    server: str = request.getfixturevalue("postgres_server")
    return postgres.create_database(server, f"test_{next(_counter)}")
