"""Overhead per step: 10 jobs x 20 ``run: true`` steps by ``shipyard run``, against plain bash.

The workflow has no ``shell:``, so Shipyard runs each step as GitHub does: it writes the script to
a file and starts ``bash -e <file>``. The baseline is a plain bash script that runs that same
command 200 times, one after the other, each a separate process (``bash -e step.sh``, where
step.sh holds ``true``). A second, informational floor runs ``/bin/true`` 200 times from bash: the
cost of a bare process, without bash's own start-up.

    overhead per step = (shipyard wall time - bash wall time) / 200

taken round by round (each Shipyard run against the bash run of the same round), median over the
rounds; for ``--jobs 1`` and for the default (one job per CPU). The same difference in CPU time,
and Shipyard's own in-run time from its JSON report (the run without interpreter start-up and
workflow loading), are printed beside it to show where the time goes.

Run: .venv/bin/python bench/bench_step_overhead.py
"""

from __future__ import annotations

import json
import os
import statistics
import sys

import _common as common

JOBS, STEPS = 10, 20
COMMANDS = JOBS * STEPS
TARGET = 0.005
"""Seconds of overhead per step, at most (issue 2)."""


def workflow() -> str:
    lines = ["name: steps", "on: push", "jobs:"]
    for job in range(JOBS):
        lines += [f"  job{job}:", "    runs-on: ubuntu-latest", "    steps:"]
        lines += ['      - run: "true"'] * STEPS
    return "\n".join(lines) + "\n"


def baseline_script(command: str) -> str:
    return "#!/bin/bash\n" + "".join(f"{command}\n" for _ in range(COMMANDS))


def main() -> int:
    with common.scratch("steps") as scratch:
        repo = common.git_repo(
            scratch / "repo", {".github/workflows/steps.yml": workflow(), "step.sh": "true\n"}
        )
        (scratch / "bash.sh").write_text(baseline_script("bash -e ./step.sh"))
        (scratch / "true.sh").write_text(baseline_script("/bin/true"))
        shipyard = common.shipyard_command()

        def run_shipyard(*extra: str) -> common.Sample:
            home = common.fresh_home(scratch)
            sample = common.run_timed(
                [*shipyard, "run", "--json", *extra],
                cwd=repo,
                env=common.shipyard_env(home),
                keep_stdout=True,
            )
            return common.check(sample, "shipyard run")

        def run_bash(script: str) -> common.Sample:
            sample = common.run_timed(["bash", str(scratch / script)], cwd=repo)
            return common.check(sample, script)

        cpus = os.cpu_count() or 1
        sequential = common.Case("shipyard run --jobs 1", lambda: run_shipyard("--jobs", "1"))
        default = common.Case(f"shipyard run (default: --jobs {cpus})", run_shipyard)
        bash = common.Case("baseline: bash, 200 x `bash -e step.sh`", lambda: run_bash("bash.sh"))
        floor = common.Case("floor: bash, 200 x `/bin/true`", lambda: run_bash("true.sh"))
        cases = [sequential, default, bash, floor]
        rounds = common.interleave(cases, min_rounds=3, max_rounds=9, budget=50)

    print(f"Overhead per step: {JOBS} jobs x {STEPS} `run: true` steps vs bash, same run")
    print(common.machine())
    print(f"median of {rounds} interleaved rounds (after one warm-up round)\n")
    rows = [
        [case.label, common.seconds(case.wall), common.seconds(case.cpu), ""]
        for case in [bash, floor]
    ]
    verdicts = []
    for case in (sequential, default):
        per_step = common.paired(case, bash, lambda a, b: (a.wall - b.wall) / COMMANDS)
        cpu_per_step = common.paired(case, bash, lambda a, b: (a.cpu - b.cpu) / COMMANDS)
        in_run = statistics.median(json.loads(s.stdout)["duration"] for s in case.samples)
        in_run_per_step = statistics.median(
            (json.loads(a.stdout)["duration"] - b.wall) / COMMANDS
            for a, b in zip(case.samples, bash.samples, strict=True)
        )
        rows.append(
            [
                case.label,
                common.seconds(case.wall),
                common.seconds(case.cpu),
                f"{common.ratio(case, bash):.2f}x",
                f"{per_step * 1000:.2f} ms",
                f"{cpu_per_step * 1000:.2f} ms",
                f"{common.seconds(in_run)} / {in_run_per_step * 1000:.2f} ms",
            ]
        )
        verdicts.append((case.label, per_step))
    print(
        common.table(
            [
                "",
                "wall",
                "CPU",
                "vs bash",
                "overhead/step",
                "CPU/step",
                "in-run time / per step",
            ],
            [row + [""] * (7 - len(row)) for row in rows],
        )
    )
    print()
    passed = all(per_step <= TARGET for _, per_step in verdicts)
    summary = "; ".join(f"{label}: {per_step * 1000:.2f} ms" for label, per_step in verdicts)
    print(
        f"{common.verdict(passed)}: median overhead per step {summary} "
        f"(target <= {TARGET * 1000:.0f} ms)"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except common.BenchError as error:
        sys.exit(common.fail(str(error)))
