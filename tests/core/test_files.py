"""A private file is created 0600 with its text, and never over an existing one."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from shipyard.core import files


def test_created_private_with_its_text(tmp_path: Path) -> None:
    path = tmp_path / "key.txt"
    files.create_private(path, "secret ✓\n" * 10_000)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text(encoding="utf-8") == "secret ✓\n" * 10_000


def test_an_existing_file_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "key.txt"
    path.write_text("first")
    with pytest.raises(FileExistsError):
        files.create_private(path, "second")
    assert path.read_text() == "first"
