"""``shipyard cache ls | prune | clear``: exact output and exit status, run as a person runs it."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from shipyard.cache import entries, snapshots

USED = 1_795_850_000  # 2026-11-28 07:13:20 UTC


def shipyard(
    home: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shipyard", "cache", *args],
        env={**os.environ, "SHIPYARD_HOME": str(home), **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A Shipyard home whose cache holds two entries: a 3000-byte snapshot and a 6-byte blob."""
    home = tmp_path / "home"
    index = entries.CacheIndex(home / "cache", durable=False)
    tree = tmp_path / "tree"
    (tree / "node_modules").mkdir(parents=True)
    (tree / "node_modules" / "left-pad.js").write_bytes(b"x" * 3000)
    snapshot = snapshots.save_tree(index.store, tree, [Path("node_modules")])
    index.put("actions-cache", "npm-Linux-4f2a", snapshot.digest, snapshot.size)
    blob = index.store.put_bytes(b"record")
    index.put("jobs", "build", blob.digest, blob.size)
    os.utime(index._path("actions-cache", "npm-Linux-4f2a"), (USED, USED))
    os.utime(index._path("jobs", "build"), (USED + 60, USED + 60))
    return home


def test_ls_lists_entries(home: Path) -> None:
    done = shipyard(home, "ls")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (
        "NAMESPACE      KEY                SIZE  LAST USED\n"
        "actions-cache  npm-Linux-4f2a  2.9 KiB  2026-11-28 07:13:20\n"
        "jobs           build               6 B  2026-11-28 07:14:20\n"
        "2 entries, 2.9 KiB\n"
    )


def test_ls_of_an_empty_cache(tmp_path: Path) -> None:
    done = shipyard(tmp_path, "ls")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"no cache entries in {tmp_path / 'cache'}\n"
    assert not (tmp_path / "cache").exists()


def test_prune_evicts_the_least_recently_used(home: Path) -> None:
    done = shipyard(home, "prune", "--max-size", "1K")
    assert (done.returncode, done.stderr) == (0, "")
    lines = done.stdout.splitlines()
    assert lines[:2] == [
        "evicted actions-cache npm-Linux-4f2a (2.9 KiB, last used 2026-11-28 07:13:20)",
        "evicted 1 entry, deleted 0 blobs, freed 0 B; 1 entry (6 B) kept under 1.0 KiB",
    ]
    assert lines[2].startswith("kept 2 unused blobs (")
    assert lines[2].endswith(") used in the last 60 minutes, in case a save in progress needs them")
    assert [entry.key for entry in entries.CacheIndex(home / "cache").list()] == ["build"]


def test_prune_reads_the_cap_from_the_environment(home: Path) -> None:
    done = shipyard(home, "prune", env={"SHIPYARD_CACHE_MAX_SIZE": "1G"})
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("evicted 0 entries, deleted 0 blobs, freed 0 B; 2 entries (")
    assert done.stdout.endswith(") kept under 1.0 GiB\n")


def test_prune_refuses_a_size_it_cannot_read(home: Path) -> None:
    done = shipyard(home, "prune", "--max-size", "2X")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "error: --max-size: '2X' is not a size\n"
        "  hint: write a size such as 500M, 2G or 10GiB (K, M, G and T are powers of 1024)\n"
    )
    done = shipyard(home, "prune", env={"SHIPYARD_CACHE_MAX_SIZE": "lots"})
    assert done.returncode == 2
    assert done.stderr.startswith("error: SHIPYARD_CACHE_MAX_SIZE: 'lots' is not a size\n")


def test_clear_without_yes_and_without_a_terminal_refuses(home: Path) -> None:
    done = shipyard(home, "clear")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"error: refusing to clear the cache in {home / 'cache'} without confirmation\n"
        "  hint: pass --yes to clear it (there is no terminal to ask on)\n"
    )
    assert len(entries.CacheIndex(home / "cache").list()) == 2


def test_clear_with_yes(home: Path) -> None:
    done = shipyard(home, "clear", "--yes")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"cleared 2 entries from {home / 'cache'}\n"
    assert shipyard(home, "ls").stdout == f"no cache entries in {home / 'cache'}\n"


@pytest.mark.parametrize(("answer", "code", "remaining"), [("y", 0, 0), ("n", 130, 2)])
def test_clear_asks_on_a_terminal(home: Path, answer: str, code: int, remaining: int) -> None:
    controller, terminal = pty.openpty()
    try:
        os.write(controller, f"{answer}\n".encode())
        done = subprocess.run(
            [sys.executable, "-m", "shipyard", "cache", "clear"],
            env={**os.environ, "SHIPYARD_HOME": str(home)},
            stdin=terminal,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    finally:
        os.close(terminal)
        os.close(controller)
    assert done.returncode == code, done.stderr
    assert done.stdout.startswith(f"Remove every cache entry and blob in {home / 'cache'}? [y/N]: ")
    assert len(entries.CacheIndex(home / "cache").list()) == remaining
