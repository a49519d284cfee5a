"""Start-up: ``shipyard --version`` and ``shipyard run --list`` against ``python -c pass``.

Each command is the installed ``shipyard`` console script, run as a user runs it; the baseline is
the same interpreter doing nothing (``python -c pass``), the floor under any Python command. The
three run in interleaved rounds, about twenty times each; the figure is the median wall time
(CPU time beside it), and "above python" is the paired difference from the baseline of the same
round. ``run --list`` runs in a scratch repository holding a typical CI workflow (checkout,
setup-python, a matrix, ``needs``, job outputs, artifacts).

Then ``python -X importtime`` on ``shipyard run --list``, a few times: the ten modules with the
largest cumulative import time (median over the runs), and the ten with the largest own time,
so that it is clear what to trim.

Run: .venv/bin/python bench/bench_startup.py
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import _common as common

TARGET = 0.150
"""Seconds, at most, for each command (issue 2)."""

TYPICAL_WORKFLOW = """\
name: ci
on: [push, pull_request]
env:
  PYTHONDONTWRITEBYTECODE: "1"
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - run: python -m compileall -q src
  test:
    needs: lint
    runs-on: ubuntu-latest
    strategy:
      fail-fast: false
      matrix:
        python-version: ["3.11", "3.12"]
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: ${{ matrix.python-version }}
      - run: python -m unittest discover -s tests
  build:
    needs: [lint, test]
    runs-on: ubuntu-latest
    outputs:
      version: ${{ steps.dist.outputs.version }}
    steps:
      - uses: actions/checkout@v4
      - id: dist
        run: echo "version=1.0.0" >> "$GITHUB_OUTPUT"
      - uses: actions/upload-artifact@v4
        with:
          name: dist
          path: dist/
  smoke:
    needs: build
    if: ${{ needs.build.outputs.version != '' }}
    runs-on: ubuntu-latest
    steps:
      - uses: actions/download-artifact@v4
        with:
          name: dist
      - run: echo "smoke test of ${{ needs.build.outputs.version }}"
"""

IMPORTTIME_RUNS = 5
LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def import_times(argv: list[str], cwd: Path) -> list[tuple[str, int, float, float]]:
    """(module, depth, median cumulative s, median self s) from ``-X importtime`` runs."""
    cumulative: dict[str, list[float]] = defaultdict(list)
    own: dict[str, list[float]] = defaultdict(list)
    depth: dict[str, int] = {}
    for _ in range(IMPORTTIME_RUNS):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", *argv],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if done.returncode != 0:
            raise common.BenchError(f"{' '.join(argv)} failed: {done.stderr[-2000:]}")
        for match in LINE.finditer(done.stderr):
            name = match.group(4)
            own[name].append(int(match.group(1)) / 1e6)
            cumulative[name].append(int(match.group(2)) / 1e6)
            depth[name] = (len(match.group(3)) - 1) // 2
    return [
        (name, depth[name], statistics.median(cumulative[name]), statistics.median(own[name]))
        for name in cumulative
    ]


def main() -> int:
    shipyard = common.shipyard_command()
    with common.scratch("startup") as scratch:
        repo = common.git_repo(scratch / "repo", {".github/workflows/ci.yml": TYPICAL_WORKFLOW})
        env = common.shipyard_env(common.fresh_home(scratch))

        def timed(*argv: str) -> common.Sample:
            return common.check(common.run_timed(argv, cwd=repo, env=env), " ".join(argv))

        baseline = common.Case(
            "baseline: python -c pass", lambda: timed(sys.executable, "-c", "pass")
        )
        version = common.Case("shipyard --version", lambda: timed(*shipyard, "--version"))
        listing = common.Case("shipyard run --list", lambda: timed(*shipyard, "run", "--list"))
        rounds = common.interleave(
            [baseline, version, listing], min_rounds=10, max_rounds=20, budget=30
        )
        script = shipyard if len(shipyard) == 1 else ["-m", "shipyard"]
        modules = import_times([*script, "run", "--list"], repo)

    print("Start-up of the shipyard command vs the bare interpreter, same run")
    print(common.machine())
    print(f"median of {rounds} interleaved rounds (after one warm-up round)\n")
    rows = [[baseline.label, common.seconds(baseline.wall), common.seconds(baseline.cpu), ""]]
    for case in (version, listing):
        above = common.paired(case, baseline, lambda a, b: a.wall - b.wall)
        rows.append(
            [case.label, common.seconds(case.wall), common.seconds(case.cpu), common.seconds(above)]
        )
    print(common.table(["", "wall", "CPU", "above python"], rows))

    print(f"\n`python -X importtime shipyard run --list`, median of {IMPORTTIME_RUNS} runs")
    by_cumulative = sorted(modules, key=lambda m: m[2], reverse=True)[:10]
    by_self = sorted(modules, key=lambda m: m[3], reverse=True)[:10]
    print(
        common.table(
            ["top 10 cumulative", "depth", "cumulative", "self"],
            [
                [name, str(d), common.seconds(c), common.seconds(s)]
                for name, d, c, s in by_cumulative
            ],
        )
    )
    print()
    print(
        common.table(
            ["top 10 self", "depth", "self", "cumulative"],
            [[name, str(d), common.seconds(s), common.seconds(c)] for name, d, c, s in by_self],
        )
    )
    print()
    passed = all(case.wall <= TARGET for case in (version, listing))
    print(
        f"{common.verdict(passed)}: --version {common.seconds(version.wall)}, "
        f"run --list {common.seconds(listing.wall)} (target <= {TARGET * 1000:.0f} ms each; "
        f"python -c pass {common.seconds(baseline.wall)})"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except common.BenchError as error:
        sys.exit(common.fail(str(error)))
