"""Save and restore of a 200 MB tree of 10,000 files, beside ``tar`` of the same tree.

Generates the tree in a temporary directory (sizes spread log-normally from a few bytes to about
1 MB, in 1,000 directories, some executables and symbolic links), then, in the same run and
interleaved so that both see the same machine:

- ``tar -c`` of the tree to a file, beside ``save_tree`` into an empty store;
- ``tar -x`` into an empty directory, beside ``restore_tree`` into an empty directory;
- a second ``save_tree`` of the unchanged tree (with and without the stat cache), which must
  store no new blob: the count of new blobs is printed.

Targets: restore at least as fast as ``tar -x``; the second save stores 0 new blobs. Every figure
is the median of several repetitions (wall-clock seconds, ``sync`` before each, the page cache
warm for both, which of the two goes first alternating), printed with the CPU time it took (user
and system, all threads; tar's as a child process), which a loaded machine inflates less. The
restored tree is compared with the original, byte for byte, once. Needs about 1 GB of disk per
repetition, freed at the end.

Run: .venv/bin/python bench/bench_cache_tree.py [--quick] [--workers N]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from shipyard.cache import snapshots, store

FILES = 10_000
TOTAL_BYTES = 200 * 1024 * 1024
DIRECTORIES = 500


def generate_tree(root: Path, files: int, total: int) -> None:
    """``files`` files of random content, ``total`` bytes in all, under ``root``."""
    rng = random.Random(20261128)
    weights = [rng.lognormvariate(9.0, 1.3) for _ in range(files)]
    scale = total / sum(weights)
    sizes = [max(1, int(weight * scale)) for weight in weights]
    pool = os.urandom(2 * 1024 * 1024)
    for index, size in enumerate(sizes):
        folder = root / f"pkg{index % DIRECTORIES:03d}" / ("bin" if index % 7 == 0 else "lib")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"file{index:05d}.dat"
        # Unique content per file: a random prefix, then random bytes from a shared pool.
        length = min(max(0, size - 16), len(pool))
        start = rng.randrange(len(pool) - length + 1)
        path.write_bytes(os.urandom(min(16, size)) + pool[start : start + length])
        if index % 7 == 0:
            path.chmod(0o755)
        if index % 200 == 0:
            (folder / f"link{index:05d}").symlink_to(path.name)


def timed(action: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (user + system, this process's threads and its children)."""
    os.sync()
    cpu = _cpu()
    start = time.perf_counter()
    action()
    return time.perf_counter() - start, _cpu() - cpu


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def blob_count(blob_store: store.BlobStore) -> int:
    return sum(1 for _ in blob_store.iter_blobs())


def same_tree(left: Path, right: Path) -> bool:
    """Same paths, kinds, permission bits, link targets and file bytes."""

    def describe(root: Path) -> dict[str, tuple[object, ...]]:
        found: dict[str, tuple[object, ...]] = {}
        for folder, dirs, names in os.walk(root):
            for name in dirs + names:
                path = Path(folder) / name
                status = path.lstat()
                relative = path.relative_to(root).as_posix()
                if path.is_symlink():
                    found[relative] = ("link", os.readlink(path))
                elif path.is_dir():
                    found[relative] = ("dir", status.st_mode & 0o777)
                else:
                    found[relative] = ("file", status.st_mode & 0o777, path.read_bytes())
        return found

    return describe(left) == describe(right)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 repetitions instead of 5")
    parser.add_argument("--workers", type=int, default=None, help="copy threads")
    parser.add_argument("--files", type=int, default=FILES)
    parser.add_argument("--megabytes", type=int, default=TOTAL_BYTES // 2**20)
    parser.add_argument("--dir", type=Path, default=None, help="where to work (default: $TMPDIR)")
    options = parser.parse_args(argv)
    repetitions = 3 if options.quick else 5
    workers = options.workers or snapshots.default_workers()
    with tempfile.TemporaryDirectory(prefix="bench-cache-tree-", dir=options.dir) as scratch:
        result = measure(Path(scratch), options.files, options.megabytes, repetitions, workers)
    if result is None:
        print("FAILED: the restored tree differs from the original", file=sys.stderr)
        return 1
    median, cpu, new_blobs = result
    print(
        f"cache tree: {options.files} files, {options.megabytes} MB, {workers} threads, "
        f"median of {repetitions}; load average {os.getloadavg()[0]:.1f}"
    )
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}")
    print(f"{'operation':<28}{'shipyard':>10}{'tar':>10}{'CPU: shipyard':>16}{'tar':>10}")
    rows = [
        ("save, empty store", "save (empty store)", "tar -c"),
        ("save again, stat cache", "save again (stat cache)", "tar -c"),
        ("save again, hashing all", "save again (hashing)", "tar -c"),
        ("restore, empty directory", "restore", "tar -x"),
    ]
    for label, ours, theirs in rows:
        print(
            f"{label:<28}{median[ours]:>9.2f}s{median[theirs]:>9.2f}s"
            f"{cpu[ours]:>15.2f}s{cpu[theirs]:>9.2f}s"
        )
    print(f"new blobs stored by a second save of the unchanged tree: {new_blobs}")
    fast_enough = median["restore"] <= median["tar -x"]
    verdict = "meets" if fast_enough else "MISSES"
    print(
        f"restore {median['restore']:.2f}s vs tar -x {median['tar -x']:.2f}s: {verdict} the "
        "target (at least as fast as tar -x)"
    )
    return 0 if fast_enough and new_blobs == 0 else 1


def measure(
    work: Path, files: int, megabytes: int, repetitions: int, workers: int
) -> tuple[dict[str, float], dict[str, float], int] | None:
    """Median wall and CPU seconds per operation, and the most new blobs a second save stored.

    Nothing is deleted until the end: ext4 scans recently deleted inodes when it allocates new
    ones, so a tree removed just before a timed run would slow whichever tool ran next.
    """
    tree = work / "tree"
    tree.mkdir()
    generate_tree(tree, files, megabytes * 2**20)
    time.sleep(2.1)  # older than the stat cache's "racily clean" window, as real trees are
    samples: dict[str, list[tuple[float, float]]] = {}
    new_blobs: list[int] = []
    for repetition in range(repetitions):
        count = one_repetition(work, tree, repetition, workers, samples)
        if count is None:
            return None
        new_blobs.append(count)
    wall = {name: statistics.median(wall for wall, _ in pairs) for name, pairs in samples.items()}
    cpu = {name: statistics.median(cpu for _, cpu in pairs) for name, pairs in samples.items()}
    return wall, cpu, max(new_blobs)


def one_repetition(
    work: Path,
    tree: Path,
    repetition: int,
    workers: int,
    samples: dict[str, list[tuple[float, float]]],
) -> int | None:
    """Time each operation once; the new blobs of the second save (None: restore differs)."""

    def sample(name: str, action: Callable[[], object]) -> None:
        samples.setdefault(name, []).append(timed(action))

    archive = work / f"tree-{repetition}.tar"
    blobs = store.BlobStore(work / f"store-{repetition}")
    saved: list[snapshots.Snapshot] = []
    order = ["tar", "ours"] if repetition % 2 == 0 else ["ours", "tar"]
    for which in order:
        if which == "tar":
            sample("tar -c", lambda: tar("-cf", archive, "-C", tree, "."))
        else:
            sample(
                "save (empty store)",
                lambda: saved.append(snapshots.save_tree(blobs, tree, [tree], workers=workers)),
            )
    before = blob_count(blobs)
    sample(
        "save again (stat cache)", lambda: snapshots.save_tree(blobs, tree, [tree], workers=workers)
    )
    sample(
        "save again (hashing)",
        lambda: snapshots.save_tree(blobs, tree, [tree], workers=workers, use_stat_cache=False),
    )
    new_blobs = blob_count(blobs) - before
    restored = work / f"restored-{repetition}"
    extracted = work / f"extracted-{repetition}"
    extracted.mkdir()
    for which in order:
        if which == "tar":
            sample("tar -x", lambda: tar("-xf", archive, "-C", extracted))
        else:
            sample(
                "restore",
                lambda: snapshots.restore_tree(blobs, saved[0].digest, restored, workers=workers),
            )
    if repetition == 0 and not same_tree(tree, restored):
        return None
    return new_blobs


def tar(*args: object) -> None:
    subprocess.run(["tar", *map(str, args)], check=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
