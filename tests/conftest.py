"""Fixtures shared by the whole suite."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS = REPO_ROOT.parent / "shared" / "corpus"


@pytest.fixture
def shipyard_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private $SHIPYARD_HOME for one test."""
    home = tmp_path / "shipyard-home"
    home.mkdir()
    monkeypatch.setenv("SHIPYARD_HOME", str(home))
    return home
