"""A real project's CI: the example app's workflow end to end by ``shipyard run``, and its time.

examples/webapp/ (of the measured revision, see _common.py) is copied into a fresh git
repository (as ``make demo`` does) and its ``.github/workflows/ci.yml`` is run with
``shipyard run --json``: lint, tests on two Python versions (a matrix), a build whose outputs and
artifact the smoke test uses, and the smoke test, which starts the app on 127.0.0.1 and calls it.
The figure is the run's wall time and each job's duration from the JSON report.

SHIPYARD_HOME is bench/.tools/shipyard-home/ (gitignored), kept between invocations for its
tool cache, as a developer's is: the environments setup-python creates in the first ("cold") run
are reused by every later ("warm") run. The warm runs are the figure. A cold run is made, and
printed beside them, when that cache is empty (the first invocation) or with ``--cold``, which
empties it first. Run directories are deleted after each run.

The baseline is the same commands run by hand in a bash script (below): one ``git clone``, the
interpreters the workflow asks for used directly (no virtual environment), lint and the two test
runs at once as the workflow's graph allows, then the build, then the smoke test. It mirrors
ci.yml as this script was written; when ci.yml changes, change it too.

A run whose workflow fails is reported as such (which job, which step), and gives no figure.

Run: .venv/bin/python bench/bench_example_ci.py [--cold]
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _common as common

APP = common.examples_dir() / "webapp"
WORKFLOW = APP / ".github" / "workflows" / "ci.yml"
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".venv", "dist", "build", "app")
VERSIONS = ("3.11", "3.12")

BY_HAND = r"""#!/bin/bash
# The example's CI by hand: ci.yml's commands in one clone, lint and tests at once, then build
# and smoke test. $1: the repository, $2/$3: python 3.11/3.12, $4: a scratch directory.
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1
PY311=$2
PY312=$3
git clone -q "$1" "$4/work"
cd "$4/work"
lint() {
  "$PY312" -W error -m compileall -q -f webapp tests scripts
  "$PY312" -c 'import webapp.__main__, webapp.server; print("imports fine:", webapp.__version__)'
  "$PY312" -m webapp --version
}
lint > "$4/lint.log" 2>&1 &
lint_pid=$!
"$PY311" -m unittest discover -s tests -v > "$4/test-3.11.log" 2>&1 &
test311_pid=$!
"$PY312" -m unittest discover -s tests -v > "$4/test-3.12.log" 2>&1 &
test312_pid=$!
joined() {
  if ! wait "$1"; then
    echo "$2 failed; the end of its log:" >&2
    tail -n 20 "$3" >&2
    exit 1
  fi
}
joined "$lint_pid" lint "$4/lint.log"
joined "$test311_pid" "tests on 3.11" "$4/test-3.11.log"
joined "$test312_pid" "tests on 3.12" "$4/test-3.12.log"

# build
"$PY311" scripts/build_dist.py --out dist > "$4/build.out"
version=$(sed -n 's/^version=//p' "$4/build.out")
name=$(sed -n 's/^name=//p' "$4/build.out")
sha256=$(sed -n 's/^sha256=//p' "$4/build.out")
test "$version" = "$("$PY311" -c 'import webapp; print(webapp.__version__)')"
mkdir -p "$4/artifacts" && cp "dist/$name" "$4/artifacts/"

# smoke
mkdir -p "$4/smoke" && cd "$4/smoke"
mkdir -p dist && cp "$4/artifacts/$name" dist/
echo "$sha256  dist/$name" | sha256sum --check
"$PY311" -m zipfile -e "dist/$name" app
PYTHONPATH=app "$PY311" -m webapp --port 0 > app.out 2> app.log < /dev/null &
pid=$!
for _ in $(seq 100); do
  grep -q ' listening on ' app.out && break
  sleep 0.1
done
url=$(sed -n 's/.* listening on \(http:[^ ]*\) .*/\1/p' app.out)
test -n "$url"
APP_URL=$url VERSION=$version "$PY311" - <<'EOF'
import http.client, json, os, urllib.parse

url = urllib.parse.urlsplit(os.environ["APP_URL"])
version = os.environ["VERSION"]

def get(path):
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()

status, body = get("/healthz")
assert status == 200 and json.loads(body) == {"status": "ok", "version": version}, body
status, body = get("/version")
assert status == 200 and json.loads(body)["version"] == version, body
status, body = get("/metrics")
assert status == 200 and f'webapp_build_info{{version="{version}"}} 1\n' in body, body
EOF
kill -TERM "$pid"
wait "$pid"
grep -q 'stopped cleanly' app.log
"""


def interpreter(version: str) -> str | None:
    """A real (non-shim) python``version``, from PATH or pyenv's versions, or None."""
    candidates = [shutil.which(f"python{version}") or ""]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates += sorted(glob.glob(str(pyenv / f"{version}.*" / "bin" / f"python{version}")))
    for candidate in filter(None, candidates):
        try:
            done = subprocess.run(
                [candidate, "-c", "import sys; print(sys.executable)"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except OSError:
            continue
        if done.returncode == 0 and done.stdout.strip():
            return done.stdout.strip()
    return None


def failed_steps(report: dict[str, Any]) -> str:
    return "; ".join(
        f"{job['name']}: {step['name']}"
        for job in report["jobs"]
        for step in job["steps"]
        if step["conclusion"] == "failure"
    )


@dataclass
class Measured:
    """The runs of one invocation: the cold run (if one was made), the warm runs, the baseline."""

    cold: common.Sample | None
    warm: common.Case
    baseline: common.Case | None
    rounds: int
    interpreters: dict[str, str | None]


def measure(argv: list[str]) -> Measured:
    interpreters = {version: interpreter(version) for version in VERSIONS}
    with common.scratch("example") as scratch:
        repo = scratch / "webapp"
        shutil.copytree(APP, repo, ignore=IGNORED)
        common.commit_all(repo)
        home = common.TOOLS / "shipyard-home"
        if "--cold" in argv:
            shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True, exist_ok=True)
        cache = home / "tool-cache"
        needs_cold_run = not cache.is_dir() or not any(cache.iterdir())
        shipyard = common.shipyard_command()

        def run_shipyard() -> common.Sample:
            try:
                return common.run_timed(
                    [*shipyard, "run", "--json"],
                    cwd=repo,
                    env=common.shipyard_env(home),
                    keep_stdout=True,
                    timeout=110,
                )
            finally:
                shutil.rmtree(home / "runs", ignore_errors=True)

        by_hand = scratch / "by_hand.sh"
        by_hand.write_text(BY_HAND)

        def run_by_hand() -> common.Sample:
            work = scratch / "by-hand"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
            paths = [str(path) for path in interpreters.values()]
            argv = ["bash", str(by_hand), str(repo), *paths, str(work)]
            return common.run_timed(argv, cwd=scratch, timeout=110)

        cold = run_shipyard() if needs_cold_run else None
        warm = common.Case("shipyard run (warm: environments exist)", run_shipyard)
        cases = [warm]
        baseline = None
        if all(interpreters.values()):
            baseline = common.Case("baseline: the same commands by hand (bash)", run_by_hand)
            cases.insert(0, baseline)
        rounds = common.interleave(cases, min_rounds=1, max_rounds=2, budget=20, warmup=False)
    return Measured(cold, warm, baseline, rounds, interpreters)


def job_table(measured: Measured, reports: list[tuple[str, dict[str, Any]]]) -> str:
    cold, warm = measured.cold, measured.warm
    jobs: dict[str, dict[str, list[float]]] = {}
    for label, report in reports:
        for job in report["jobs"]:
            jobs.setdefault(job["name"], {"cold": [], "warm": []})[label].append(job["duration"])
    rows = [
        [name, common.seconds(statistics.median(times["warm"]))]
        + ([common.seconds(times["cold"][0])] if cold is not None else [])
        for name, times in jobs.items()
    ]
    rows.append(["whole run (wall)", common.seconds(warm.wall)])
    rows.append(["whole run (CPU)", common.seconds(warm.cpu)])
    if cold is not None:
        rows[-2].append(common.seconds(cold.wall))
        rows[-1].append(common.seconds(cold.cpu))
    headers = ["job (duration from the JSON report)", "warm"] + (["cold"] if cold else [])
    return common.table(headers, rows)


def slowest_steps(reports: list[dict[str, Any]], count: int = 8) -> str:
    """The warm runs' slowest steps (median duration), to show where the run's time goes."""
    durations: dict[tuple[str, str], list[float]] = {}
    for report in reports:
        for job in report["jobs"]:
            for step in job["steps"]:
                key = (job["name"], step["name"])
                durations.setdefault(key, []).append(step.get("duration") or 0.0)
    ranked = sorted(durations.items(), key=lambda item: statistics.median(item[1]), reverse=True)
    rows = [
        [f"{job}: {step}"[:70], common.seconds(statistics.median(times))]
        for (job, step), times in ranked[:count]
    ]
    return common.table(["slowest steps (warm)", "duration"], rows)


def baseline_table(measured: Measured) -> tuple[str, bool]:
    """The warm runs beside the baseline, and whether every baseline run succeeded."""
    baseline, warm = measured.baseline, measured.warm
    if baseline is None:
        missing = [v for v, path in measured.interpreters.items() if path is None]
        return f"no baseline: no Python {', '.join(missing)} here to run it by hand", True
    failed = [s for s in baseline.samples if s.returncode != 0]
    rows = [
        [baseline.label, common.seconds(baseline.wall), common.seconds(baseline.cpu), ""],
        [
            warm.label,
            common.seconds(warm.wall),
            common.seconds(warm.cpu),
            "(baseline failed)" if failed else f"{common.ratio(warm, baseline):.2f}x",
        ],
    ]
    text = common.table(["", "wall", "CPU", "vs by hand"], rows)
    if failed:
        text += f"\nthe baseline FAILED (a command exited non-zero):\n{failed[0].stderr_tail}"
    return text, not failed


def main(argv: list[str]) -> int:
    print("A real project's CI: examples/webapp's ci.yml end to end")
    if not WORKFLOW.exists():
        return common.fail(
            f"{WORKFLOW} does not exist yet: the example's workflow is "
            "still to be written, so there is nothing to run"
        )
    measured = measure(argv)
    cold, warm, baseline = measured.cold, measured.warm, measured.baseline
    print(common.machine())
    first = "1 cold run (empty tool cache), then " if cold is not None else ""
    print(f"{first}{measured.rounds} round(s) of the warm run beside the baseline\n")
    runs = [("warm", sample) for sample in warm.samples]
    if cold is not None:
        runs.insert(0, ("cold", cold))
    reports = []
    for label, sample in runs:
        try:
            report = json.loads(sample.stdout)
        except json.JSONDecodeError:
            return common.fail(f"the {label} run wrote no report:\n{sample.stderr_tail}")
        reports.append((label, report))
        if report["conclusion"] != "success":
            print(f"the {label} run FAILED in {failed_steps(report)}")
    print(job_table(measured, reports))
    print()
    print(slowest_steps([report for label, report in reports if label == "warm"]))
    print()
    text, baseline_ok = baseline_table(measured)
    print(text)
    print()
    if not all(report["conclusion"] == "success" for _, report in reports):
        print("NO FIGURE: the workflow failed (see above); times shown are of failing runs")
        return 1
    beside = ""
    if baseline is not None and baseline_ok:
        beside = f"; by hand {common.seconds(baseline.wall)}"
    cold_text = "" if cold is None else f", {common.seconds(cold.wall)} cold"
    print(
        f"FIGURE: the example's CI in {common.seconds(warm.wall)} warm{cold_text}{beside} "
        "(no target: the figure is recorded)"
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except common.BenchError as error:
        sys.exit(common.fail(str(error)))
