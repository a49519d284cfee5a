"""Scale: a 500-job DAG of trivial jobs by ``shipyard run``, against bash running 500 processes.

The graph fans out and in: one ``root`` job, 498 jobs that each need ``root``, and one ``sink``
that needs all 498. Every job has one step, ``run: true``, so Shipyard starts 500 processes
(``bash -e <script file>``) and the rest is its own work: scheduling, workspaces, environments,
logs and the report. The baseline is a bash script that runs the same 500 commands
(``bash -e step.sh``, step.sh holding ``true``) one after the other. Shipyard runs at its default
``--jobs`` (one per CPU). The target is Shipyard's wall time: at most 10 s on 2 cores.

Run: .venv/bin/python bench/bench_dag_500.py
"""

from __future__ import annotations

import json
import os
import statistics
import sys

import _common as common

FAN = 498
JOBS = FAN + 2
TARGET = 10.0
"""Seconds, at most, for the whole run (issue 2)."""


def workflow() -> str:
    fan = [f"fan{index:03d}" for index in range(FAN)]
    step = ["    steps:", '      - run: "true"']
    lines = ["name: dag", "on: push", "jobs:", "  root:", "    runs-on: ubuntu-latest", *step]
    for job in fan:
        lines += [f"  {job}:", "    runs-on: ubuntu-latest", "    needs: root", *step]
    lines += ["  sink:", "    runs-on: ubuntu-latest", f"    needs: [{', '.join(fan)}]", *step]
    return "\n".join(lines) + "\n"


def main() -> int:
    with common.scratch("dag") as scratch:
        repo = common.git_repo(
            scratch / "repo", {".github/workflows/dag.yml": workflow(), "step.sh": "true\n"}
        )
        (scratch / "bash.sh").write_text("#!/bin/bash\n" + "bash -e ./step.sh\n" * JOBS)
        shipyard = common.shipyard_command()

        def run_shipyard() -> common.Sample:
            home = common.fresh_home(scratch)
            sample = common.run_timed(
                [*shipyard, "run", "--json"],
                cwd=repo,
                env=common.shipyard_env(home),
                keep_stdout=True,
                timeout=90,
            )
            return common.check(sample, "shipyard run")

        def run_bash() -> common.Sample:
            return common.check(
                common.run_timed(["bash", str(scratch / "bash.sh")], cwd=repo), "bash"
            )

        cpus = os.cpu_count() or 1
        ours = common.Case(f"shipyard run, {JOBS} jobs (--jobs {cpus}, the default)", run_shipyard)
        bash = common.Case(f"baseline: bash, {JOBS} x `bash -e step.sh` in sequence", run_bash)
        rounds = common.interleave(
            [ours, bash], min_rounds=3, max_rounds=5, budget=40, warmup=False
        )

    for sample in ours.samples:
        report = json.loads(sample.stdout)
        if report["conclusion"] != "success" or len(report["jobs"]) != JOBS:
            return common.fail(f"the run did not run {JOBS} jobs successfully: {report}")
    in_run = statistics.median(json.loads(s.stdout)["duration"] for s in ours.samples)
    per_job = common.paired(ours, bash, lambda a, b: (a.wall - b.wall) / JOBS)
    print(f"Scale: 1 -> {FAN} -> 1 DAG of one-step jobs vs bash, same run")
    print(common.machine())
    print(f"median of {rounds} interleaved rounds\n")
    rows = [
        [
            ours.label,
            common.seconds(ours.wall),
            common.seconds(ours.cpu),
            f"{common.ratio(ours, bash):.2f}x",
            common.seconds(in_run),
            f"{per_job * 1000:.1f} ms",
        ],
        [bash.label, common.seconds(bash.wall), common.seconds(bash.cpu), "1.00x", "", ""],
    ]
    print(common.table(["", "wall", "CPU", "vs bash", "in-run", "overhead/job"], rows))
    print()
    passed = ours.wall <= TARGET
    print(
        f"{common.verdict(passed)}: {JOBS}-job DAG in {common.seconds(ours.wall)} "
        f"(target <= {TARGET:.0f} s on 2 cores; bash alone {common.seconds(bash.wall)})"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except common.BenchError as error:
        sys.exit(common.fail(str(error)))
