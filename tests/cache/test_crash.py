"""Crash safety: kill real processes with SIGKILL mid-save, then check every blob and entry.

A worker process saves tree after tree; it is killed at random moments about twenty times (a
fresh worker each time, all on one store). Afterwards no temporary file outlives the next opening
of the store, every blob hashes to its name, and every entry restores to exactly its tree, also
after a garbage collection that may delete what the killed saves left behind.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.cache import entries
from tests.cache import crash_worker

KILLS = 20
TIME_LIMIT = 30.0  # seconds for all the kills, however slow the machine


@pytest.mark.slow
def test_saves_killed_at_random_moments_leave_the_store_sound(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    killed, mid_write = crash_worker.kill_saves(
        root, tmp_path / "work", KILLS, seed=1, time_limit=TIME_LIMIT
    )
    assert killed >= 10
    assert mid_write >= 1  # some kills landed while a blob or entry was half written
    first = crash_worker.verify(root)
    assert first.ok, (first.corrupt_blobs, first.bad_entries)
    assert first.entries_verified >= 1
    assert first.blobs_verified > first.entries_verified
    entries.CacheIndex(root, durable=False).prune(10 * 1024**3, grace_seconds=0)
    after_gc = crash_worker.verify(root)
    assert after_gc.ok, (after_gc.corrupt_blobs, after_gc.bad_entries)
    assert after_gc.entries_verified == first.entries_verified
