"""Step scripts are written in a private directory in memory, or in RUNNER_TEMP without one."""

from __future__ import annotations

import os
import stat
import subprocess
import time
from pathlib import Path

import pytest

from shipyard.pipeline.run import scripts


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A memory base of the test's own, and no directory made yet."""
    base = tmp_path / "shm"
    base.mkdir()
    monkeypatch.setattr(scripts, "MEMORY_BASES", (base,))
    monkeypatch.setattr(scripts, "_directory", None)
    monkeypatch.setattr(scripts, "_unavailable", False)
    return base


def test_one_private_directory_per_process(fresh: Path, tmp_path: Path) -> None:
    made = scripts.directory(tmp_path / "fallback")
    assert made.parent == fresh
    assert made.name.startswith(f"shipyard-{os.getpid()}-")
    assert stat.S_IMODE(made.stat().st_mode) == 0o700
    assert scripts.directory(tmp_path / "fallback") == made


def test_without_a_writable_memory_base_the_fallback_is_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(scripts, "MEMORY_BASES", (tmp_path / "missing",))
    monkeypatch.setattr(scripts, "_directory", None)
    monkeypatch.setattr(scripts, "_unavailable", False)
    assert scripts.directory(tmp_path / "fallback") == tmp_path / "fallback"


def test_a_dead_runners_old_directory_is_swept(fresh: Path) -> None:
    dead = subprocess.run(["sh", "-c", "echo $$"], capture_output=True, text=True, check=True)
    dead_pid = int(dead.stdout)
    old = time.time() - 2 * scripts.STALE_AFTER
    stale = fresh / f"shipyard-{dead_pid}-aaaa"
    recent = fresh / f"shipyard-{dead_pid}-bbbb"
    live = fresh / f"shipyard-{os.getpid()}-cccc"
    other = fresh / "someone-else"
    for path in (stale, recent, live, other):
        path.mkdir()
        (path / "x.sh").write_text("true\n")
    for path in (stale, live, other):
        os.utime(path, (old, old))
    scripts.sweep(fresh)
    assert not stale.exists()
    assert recent.exists() and live.exists() and other.exists()
