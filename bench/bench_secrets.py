"""Secret scanning throughput in MB/s beside detect-secrets, and recall on the planted corpus.

Two measurements in one run, both tools run as a person runs them (their command lines, start-up
included), interleaved round by round:

1. Throughput: a copy of part of this venv's site-packages (``--megabytes`` of text, default 4;
   real third-party source, templates, minified JavaScript, test data) scanned by
   ``shipyard scan --scanner secrets`` and by ``detect-secrets scan --all-files``; MB/s is the
   tree's size over the median wall time. Target: Shipyard at least 3x faster.
2. Recall and false positives on the planted corpus of tests/security/secret_corpus.py (every
   kind of secret Shipyard knows, in realistic files, plus look-alikes): a planted secret is found
   when a tool reports its file and line; a false positive is a report anywhere else (the one
   line Shipyard's inline comment allows is left out for both tools). Target: Shipyard's recall
   at least detect-secrets'.

detect-secrets (pinned below) is installed into bench/.tools/security-venv when missing. It runs
with its proxies pointed at a closed loopback port; it needs no network for a scan anyway.

``--max-file-kb N`` leaves out the tree's files larger than N KiB (large data files such as a CA
bundle are where detect-secrets spends most of its time), to see the ratio on source alone.

Run: .venv/bin/python bench/bench_secrets.py [--quick] [--megabytes N] [--max-file-kb N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import _common as common
import _security_common as security

sys.path.insert(0, str(common.REPO))
from tests.security import secret_corpus  # the corpus the tests use


def _shipyard(tree: Path, output: Path, home: Path) -> common.Sample:
    argv = [*common.shipyard_command(), "scan", str(tree), "--scanner", "secrets",
            "--fail-on", "never", "--format", "json", "--output", str(output)]  # fmt: skip
    return common.check(common.run_timed(argv, cwd=tree, env=common.shipyard_env(home),
                                         timeout=600), "shipyard scan")  # fmt: skip


def _detect_secrets(tree: Path, binary: Path) -> common.Sample:
    argv = [str(binary), "scan", "--all-files", "."]
    sample = common.run_timed(argv, cwd=tree, env=security.offline_env(), timeout=1800,
                              keep_stdout=True)  # fmt: skip
    return common.check(sample, "detect-secrets scan")


def _in_process(tree: Path) -> float:
    """The median of three in-process runs of the secret scanner over ``tree``, in seconds."""
    from shipyard.security import interface
    from shipyard.security.scanners import secrets

    times = []
    for _ in range(3):
        started = time.perf_counter()
        secrets.SecretScanner().scan(interface.ScanContext(root=tree))
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _planted_lines(root: Path, planted: list[secret_corpus.Planted]) -> set[tuple[str, int]]:
    found = set()
    for item in planted:
        text = (root / item.path).read_text(encoding="utf-8")
        index = text.index(item.secret)
        found.add((item.path, text.count("\n", 0, index) + 1))
    return found


def _score(reported: set[tuple[str, int]], planted: set[tuple[str, int]]) -> tuple[int, int]:
    allowed = {("app/allowed.py", 1)}
    hits = len(planted & reported)
    false_positives = len(reported - planted - allowed)
    return hits, false_positives


def recall(binary: Path, scratch: Path) -> list[list[str]]:
    corpus = scratch / "corpus"
    planted = secret_corpus.write_corpus(corpus)
    lines = _planted_lines(corpus, planted)
    output = scratch / "corpus.json"
    _shipyard(corpus, output, common.fresh_home(scratch))
    ours = {(f["path"], f["line"]) for f in json.loads(output.read_text())["findings"]}
    theirs_raw = json.loads(_detect_secrets(corpus, binary).stdout)["results"]
    theirs = {(path.removeprefix("./"), item["line_number"])
              for path, items in theirs_raw.items() for item in items}  # fmt: skip
    rows = []
    for label, reported in (("shipyard", ours), ("detect-secrets", theirs)):
        hits, false_positives = _score(reported, lines)
        rows.append([label, f"{hits}/{len(lines)}", f"{hits / len(lines):.0%}",
                     str(false_positives)])  # fmt: skip
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 MB, 2 rounds")
    parser.add_argument("--megabytes", type=float, default=4.0)
    parser.add_argument("--max-file-kb", type=int, default=0,
                        help="drop files larger than this from the tree (0: keep all)")  # fmt: skip
    options = parser.parse_args()
    megabytes = 1.0 if options.quick else options.megabytes
    try:
        binary = security.tool("detect-secrets")
    except common.BenchError as error:
        return common.fail(str(error))
    print(common.machine())
    with common.scratch("secrets") as scratch:
        tree = scratch / "tree"
        security.copy_site_packages(tree, megabytes)
        if options.max_file_kb:
            for path in [p for p in tree.rglob("*") if p.is_file() and not p.is_symlink()]:
                if path.stat().st_size > options.max_file_kb * 1024:
                    print(f"left out: {path.relative_to(tree)} ({path.stat().st_size} bytes)")
                    path.unlink()
        size = security.tree_bytes(tree)
        home = common.fresh_home(scratch)
        output = scratch / "tree.json"
        cases = [
            common.Case("shipyard scan --scanner secrets", lambda: _shipyard(tree, output, home)),
            common.Case("detect-secrets scan --all-files", lambda: _detect_secrets(tree, binary)),
        ]
        rounds = common.interleave(cases, min_rounds=2, max_rounds=2 if options.quick else 3,
                                   budget=60 if options.quick else 600)  # fmt: skip
        ours, theirs = cases
        print(f"\nThroughput: {size / 1e6:.1f} MB in {sum(1 for _ in tree.rglob('*'))} entries, "
              f"median of {rounds} rounds")  # fmt: skip
        rows = [[case.label, common.seconds(case.wall), common.seconds(case.cpu),
                 f"{size / 1e6 / case.wall:.2f} MB/s"] for case in cases]  # fmt: skip
        print(common.table(["tool", "wall", "cpu", "throughput"], rows))
        scan_only = _in_process(tree)
        print(f"Shipyard's secret scanner alone, in-process (no start-up): "
              f"{common.seconds(scan_only)}, {size / 1e6 / scan_only:.2f} MB/s")  # fmt: skip
        speedup = common.paired(theirs, ours, lambda a, b: a.wall / b.wall)
        print(f"Shipyard is {speedup:.1f}x faster than detect-secrets "
              f"(target 3x: {common.verdict(speedup >= 3)})")  # fmt: skip
        with tempfile.TemporaryDirectory(dir=scratch) as corpus_dir:
            rows = recall(binary, Path(corpus_dir))
        print(f"\nRecall on the planted corpus ({len(secret_corpus.KINDS)} kinds, "
              f"{len(secret_corpus.LOOK_ALIKES)} look-alike files)")  # fmt: skip
        print(common.table(["tool", "found", "recall", "false positives"], rows))
        better = float(rows[0][2].rstrip("%")) >= float(rows[1][2].rstrip("%"))
        print(f"Shipyard's recall is at least detect-secrets': {common.verdict(better)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
