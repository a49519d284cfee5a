"""Where ``shipyard run`` spends its time: cProfile over one run of a benchmark's workflow.

Not a benchmark (no baseline, no target, not run by ``make bench``): the guide for improving the
figures of bench_step_overhead.py (``steps``: 10 jobs x 20 ``run: true`` steps) and
bench_dag_500.py (``dag``: 1 -> 498 -> 1 jobs). It builds that workflow's repository, runs
``shipyard run --json`` under cProfile in a child process, and prints the Shipyard functions with
the largest cumulative time and the functions (any code, builtins included) with the largest own
time.

The profiler's clock is this process's CPU time by default (``--timer cpu``): on a shared, noisy
machine a wall clock charges the time the process spent descheduled to whichever function happened
to be running, which hides the real costs. ``--timer wall`` gives what
``python -m cProfile -o run.prof -m shipyard run --json`` gives (waits included). Time spent in the
steps' own processes is never in the profile: only the runner's process is profiled.

Run: .venv/bin/python bench/profile_run.py [steps|dag] [--jobs N] [--timer cpu|wall] [--top N]
     [--out FILE.prof]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import sys
import time
from pathlib import Path

import _common as common
import bench_dag_500
import bench_step_overhead

WORKFLOWS = {
    "steps": ("steps.yml", bench_step_overhead.workflow),
    "dag": ("dag.yml", bench_dag_500.workflow),
}


def child(out: str, timer: str, args: list[str]) -> int:
    """In the child: run ``shipyard <args>`` under the profiler and dump the stats to ``out``."""
    sys.argv = ["shipyard", *args]
    from shipyard.cli import main as cli_main

    profiler = cProfile.Profile(time.process_time if timer == "cpu" else time.perf_counter)
    status: object = 0
    profiler.enable()
    try:
        cli_main.main()
    except SystemExit as done:
        status = done.code
    finally:
        profiler.disable()
        profiler.dump_stats(out)
    return status if isinstance(status, int) else 1


def where(key: tuple[str, int, str]) -> str:
    filename, line, function = key
    if filename == "~":
        return function
    marker = "/shipyard/"
    if marker in filename and "site-packages" not in filename:
        filename = "shipyard/" + filename.split(marker, 1)[1]
    else:
        filename = Path(filename).name
    return f"{filename}:{line}({function})"


def summarize(path: Path, top: int) -> None:
    stats = pstats.Stats(str(path))
    entries = stats.stats  # type: ignore[attr-defined]
    total = stats.total_tt  # type: ignore[attr-defined]
    ours = [
        (key, value)
        for key, value in entries.items()
        if "/shipyard/" in key[0] and "site-packages" not in key[0]
    ]
    print(f"profiled total: {common.seconds(total)}\n")
    by_cumulative = sorted(ours, key=lambda item: item[1][3], reverse=True)[:top]
    print(
        common.table(
            ["Shipyard functions by cumulative time", "calls", "cumulative", "own"],
            [
                [where(key), str(nc), common.seconds(ct), common.seconds(tt)]
                for key, (_, nc, tt, ct, _) in by_cumulative
            ],
        )
    )
    print()
    by_own = sorted(entries.items(), key=lambda item: item[1][2], reverse=True)[:top]
    print(
        common.table(
            ["all functions by own time", "calls", "own", "cumulative"],
            [
                [where(key), str(nc), common.seconds(tt), common.seconds(ct)]
                for key, (_, nc, tt, ct, _) in by_own
            ],
        )
    )


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        out, timer = argv[1], argv[2]
        return child(out, timer, argv[4:])  # argv[3] is "--"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workflow", nargs="?", choices=sorted(WORKFLOWS), default="steps")
    parser.add_argument("--jobs", type=int, default=None, help="shipyard run --jobs N")
    parser.add_argument("--timer", choices=["cpu", "wall"], default="cpu")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--out", type=Path, default=None, help="keep the .prof file here")
    options = parser.parse_args(argv)
    name, text = WORKFLOWS[options.workflow]
    run_args = ["run", "--json"] + ([] if options.jobs is None else ["--jobs", str(options.jobs)])
    with common.scratch("profile") as scratch:
        repo = common.git_repo(scratch / "repo", {f".github/workflows/{name}": text()})
        prof = scratch / "run.prof"
        argv_child = [sys.executable, __file__, "--child", str(prof), options.timer, "--"]
        sample = common.run_timed(
            [*argv_child, *run_args],
            cwd=repo,
            env=common.shipyard_env(common.fresh_home(scratch)),
            timeout=300,
        )
        common.check(sample, "the profiled run")
        print(
            f"cProfile ({options.timer} clock) of `shipyard {' '.join(run_args)}` on the "
            f"{options.workflow} workflow; wall {common.seconds(sample.wall)} with the profiler"
        )
        print(common.machine())
        summarize(prof, options.top)
        if options.out is not None:
            shutil.copyfile(prof, options.out)
            print(f"\nkept {options.out} (python -m pstats {options.out})")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except common.BenchError as error:
        sys.exit(common.fail(str(error)))
