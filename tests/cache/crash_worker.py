"""A process that saves trees into a cache store until it is killed, and the check that follows.

Run as ``python -m tests.cache.crash_worker ROOT WORK FIRST_SEED [--durable]``: it prints
``ready`` once imported, then saves tree after tree (seed FIRST_SEED, FIRST_SEED + 1, ...) as
entries ``crash/seed-N`` until killed. Every tree is a pure function of its seed, so
:func:`verify` can rebuild what each entry must restore to. A third of each tree's files have the
same content in every tree, so saves also take the path that finds a blob already stored.

Used by tests/cache/test_crash.py (about 20 kills) and bench/bench_cache_crash.py (100).
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipyard.cache import entries, errors, snapshots

NAMESPACE = "crash"
REPO_ROOT = Path(__file__).resolve().parents[2]
Description = dict[str, tuple[Any, ...]]


def expected_tree(seed: int) -> Description:
    """What the tree of ``seed`` holds: path -> (kind, mode, content or link target)."""
    rng = random.Random(seed)
    tree: Description = {"pkg": ("dir", 0o755), "pkg/bin": ("dir", 0o750)}
    for index in range(24):
        shared = index % 3 == 0
        size = rng.choice([0, 10, 700, 5000, 40_000])
        if index == 5 and seed % 4 == 0:
            size = 1_300_000  # past the store's one-read limit: the streaming path
        source = random.Random(index if shared else seed * 1000 + index)
        content = source.randbytes(size)
        folder = "pkg/bin" if index % 4 == 0 else "pkg"
        mode = 0o755 if folder == "pkg/bin" else rng.choice([0o644, 0o600, 0o444])
        tree[f"{folder}/file{index:02d}"] = ("file", mode, content)
    tree["pkg/latest"] = ("symlink", f"file{seed % 24:02d}")
    return tree


def write_tree(root: Path, description: Description) -> None:
    for path, (kind, *rest) in sorted(description.items()):
        target = root / path
        if kind == "dir":
            target.mkdir(parents=True, exist_ok=True)
        elif kind == "symlink":
            target.symlink_to(rest[0])
        else:
            target.write_bytes(rest[1])
            target.chmod(rest[0])
    for path, (kind, *rest) in description.items():
        if kind == "dir":
            (root / path).chmod(rest[0])


def tree_size(description: Description) -> int:
    return sum(len(rest[1]) for kind, *rest in description.values() if kind == "file")


def describe(root: Path) -> Description:
    found: Description = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            mode = stat.S_IMODE(path.lstat().st_mode)
            if path.is_symlink():
                found[relative] = ("symlink", os.readlink(path))
            elif path.is_dir():
                found[relative] = ("dir", mode)
            else:
                found[relative] = ("file", mode, path.read_bytes())
    return found


def main(argv: list[str]) -> None:
    root, work, first_seed = Path(argv[0]), Path(argv[1]), int(argv[2])
    index = entries.CacheIndex(root, durable="--durable" in argv)
    print("ready", flush=True)
    seed = first_seed
    while True:
        tree = work / f"tree-{seed}"
        write_tree(tree, expected_tree(seed))
        snapshot = snapshots.save_tree(index.store, tree, [tree / "pkg"])
        index.put(NAMESPACE, f"seed-{seed}", snapshot.digest, snapshot.size)
        seed += 1


def kill_saves(
    root: Path, work: Path, kills: int, *, seed: int, time_limit: float, durable: bool = False
) -> tuple[int, int]:
    """Start and SIGKILL workers: how many were killed, and how many left a half-written file."""
    rng = random.Random(seed)
    deadline = time.monotonic() + time_limit
    done = mid_write = 0
    while done < kills and time.monotonic() < deadline:
        command = [sys.executable, "-m", "tests.cache.crash_worker", str(root), str(work)]
        command += [str(done * 1000), *(["--durable"] if durable else [])]
        with subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True) as worker:
            assert worker.stdout is not None
            assert worker.stdout.readline() == "ready\n"
            time.sleep(rng.uniform(0.0, 0.25))
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=30)
        assert worker.returncode == -signal.SIGKILL
        done += 1
        mid_write += (root / "tmp").is_dir() and bool(list((root / "tmp").iterdir()))
    return done, mid_write


@dataclass
class Verification:
    """What :func:`verify` found."""

    stale_temp_files: int = 0
    blobs_verified: int = 0
    corrupt_blobs: list[str] = field(default_factory=list)
    entries_verified: int = 0
    bad_entries: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.corrupt_blobs and not self.bad_entries


def verify(root: Path) -> Verification:
    """Check every blob's hash and restore every entry, comparing it with its tree."""
    result = Verification()
    temp = root / "tmp"
    result.stale_temp_files = len(os.listdir(temp)) if temp.is_dir() else 0
    index = entries.CacheIndex(root, durable=False)  # opening it cleans dead writers' files
    leftovers = os.listdir(temp)
    if leftovers:
        result.bad_entries.append(f"temporary files left after opening the store: {leftovers}")
    for path in sorted((root / "blobs").glob("*/*")):
        digest = path.parent.name + path.name
        if hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            result.corrupt_blobs.append(digest)
        result.blobs_verified += 1
    for entry in index.list(NAMESPACE):
        seed = int(entry.key.removeprefix("seed-"))
        dest = Path(tempfile.mkdtemp(prefix="crash-verify-"))
        try:
            snapshots.restore_tree(index.store, entry.digest, dest)
            if describe(dest) != expected_tree(seed):
                result.bad_entries.append(f"{entry.key}: restored tree differs")
            elif entry.size != sum(
                len(bytes(rest[-1]))
                for kind, *rest in expected_tree(seed).values()  # type: ignore[call-overload]
                if kind == "file"
            ):
                result.bad_entries.append(f"{entry.key}: recorded size {entry.size} is wrong")
            else:
                result.entries_verified += 1
        except errors.CacheError as error:
            result.bad_entries.append(f"{entry.key}: {error}")
        finally:
            shutil.rmtree(dest)
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
