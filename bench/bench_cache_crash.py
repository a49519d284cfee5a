"""Store integrity under crashes: 100 saves killed with SIGKILL at random moments, then checked.

Each round starts a fresh process that saves tree after tree into one cache store (durable, as
Shipyard runs it) and kills it with SIGKILL after a random delay of 0 to 250 ms. After all rounds
the store is opened (which removes what dead writers left in ``tmp/``), every blob is hashed and
compared with its name, and every entry is restored and compared with the tree it was saved
from; then a garbage collection runs with no grace period and everything is checked again.

The comparison is the store before and after: every entry that became visible must restore
completely, and no blob may be corrupt. Prints the counts; exits 1 on any corrupt blob or entry.
The worker and the checks are tests/cache/crash_worker.py, which the test suite also runs (20
kills).

Run: .venv/bin/python bench/bench_cache_crash.py [--kills N]
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from shipyard.cache import entries

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
crash_worker = importlib.import_module("tests.cache.crash_worker")  # shared with the test suite


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--time-limit", type=float, default=600.0, help="seconds for all kills")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-cache-crash-") as scratch:
        root = Path(scratch) / "cache"
        started = time.perf_counter()
        killed, mid_write = crash_worker.kill_saves(
            root,
            Path(scratch) / "work",
            options.kills,
            seed=20261128,
            time_limit=options.time_limit,
            durable=True,
        )
        killing = time.perf_counter() - started
        before_gc = crash_worker.verify(root)
        report = entries.CacheIndex(root).prune(10 * 1024**3, grace_seconds=0)
        after_gc = crash_worker.verify(root)

    print(f"cache crash safety: {killed} saves killed with SIGKILL in {killing:.1f}s")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}")
    print(f"kills that left a half-written file behind: {mid_write}")
    print(
        f"stale temporary files removed when the store was next opened: "
        f"{before_gc.stale_temp_files} (after the last kill)"
    )
    for label, result in (("after the kills", before_gc), ("after garbage collection", after_gc)):
        print(
            f"{label}: {result.entries_verified} entries verified (restored and compared), "
            f"{len(result.bad_entries)} incomplete; {result.blobs_verified} blobs verified, "
            f"{len(result.corrupt_blobs)} corrupt"
        )
    print(f"garbage collection deleted {report.blobs_deleted} blobs the killed saves left")
    for problem in before_gc.bad_entries + after_gc.bad_entries:
        print(f"  problem: {problem}")
    for digest in before_gc.corrupt_blobs + after_gc.corrupt_blobs:
        print(f"  corrupt blob: {digest}")
    sound = before_gc.ok and after_gc.ok and killed == options.kills
    sound = sound and after_gc.entries_verified == before_gc.entries_verified
    print("result: " + ("sound, 0 corrupt" if sound else "BROKEN"))
    return 0 if sound else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
