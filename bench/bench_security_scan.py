"""A full ``shipyard scan`` of a large real tree, beside bandit, detect-secrets and pip-audit
run separately on the same tree, in the same run.

The tree is a copy of part of this venv's site-packages (``--megabytes`` of text, default 3: real
third-party Python, templates, JavaScript, data) with a ``requirements.txt`` pinning every
installed distribution (about 80). Each round runs, in a rotated order:

- ``shipyard scan`` with every default scanner (bandit in-process, semgrep when installed,
  dependencies against the offline OSV database of ../shared/corpus/osv-pypi, secrets,
  workflows, Dockerfiles, Kubernetes, shipyard.yaml, SBOM), writing SARIF;
- ``bandit -r`` (Shipyard's own pinned bandit, as a command), JSON to a file;
- ``detect-secrets scan --all-files``;
- ``pip-audit -r requirements.txt --no-deps --disable-pip --dry-run``: pip-audit asks PyPI's or
  OSV's web API about every package and has no offline database, and benchmarks talk only to
  loopback, so only its offline part — reading the requirements and resolving the pins — is
  measured. Its advisory look-ups are not; the figure says so beside it.

Printed: the median wall and CPU time of each over the rounds, the sum of the three separate
tools, and Shipyard's full scan against that sum. detect-secrets and pip-audit (pinned in
_security_common.py) are installed into bench/.tools/security-venv when missing.

Run: .venv/bin/python bench/bench_security_scan.py [--quick] [--megabytes N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import _common as common
import _security_common as security

OSV_PYPI = common.REPO.parent / "shared" / "corpus" / "osv-pypi" / "vulns"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 MB, 1 round")
    parser.add_argument("--megabytes", type=float, default=3.0)
    options = parser.parse_args()
    megabytes = 1.0 if options.quick else options.megabytes
    if not OSV_PYPI.is_dir():
        return common.fail(f"the OSV corpus is missing: {OSV_PYPI}")
    try:
        detect_secrets = security.tool("detect-secrets")
        pip_audit = security.tool("pip-audit")
    except common.BenchError as error:
        return common.fail(str(error))
    bandit = Path(sys.executable).parent / "bandit"
    print(common.machine())
    with common.scratch("security-scan") as scratch:
        tree = scratch / "tree"
        security.copy_site_packages(tree, megabytes)
        size = security.tree_bytes(tree)
        home = common.fresh_home(scratch)
        offline = security.offline_env()

        def run(
            argv: list[str], what: str, env: dict[str, str], ok: tuple[int, ...]
        ) -> common.Sample:
            sample = common.run_timed(argv, cwd=tree, env=env, timeout=1800)
            if sample.returncode not in ok:
                raise common.BenchError(f"{what} exited with {sample.returncode}:\n"
                                        f"{sample.stderr_tail}")  # fmt: skip
            return sample

        shipyard_argv = [*common.shipyard_command(), "scan", ".", "--osv-db", str(OSV_PYPI),
                         "--output", str(scratch / "scan.sarif")]  # fmt: skip
        cases = [
            common.Case("shipyard scan (every scanner)", lambda: run(
                shipyard_argv, "shipyard scan", common.shipyard_env(home), (0, 1))),
            common.Case("bandit -r", lambda: run(
                [str(bandit), "-r", ".", "-q", "-f", "json", "-o", str(scratch / "bandit.json")],
                "bandit", offline, (0, 1))),
            common.Case("detect-secrets scan --all-files", lambda: run(
                [str(detect_secrets), "scan", "--all-files", "."], "detect-secrets", offline,
                (0,))),
            common.Case("pip-audit --dry-run (no advisories)", lambda: run(
                [str(pip_audit), "-r", "requirements.txt", "--no-deps", "--disable-pip",
                 "--dry-run", "--progress-spinner", "off"], "pip-audit", offline, (0,))),
        ]  # fmt: skip
        try:
            rounds = common.interleave(cases, min_rounds=1, max_rounds=1 if options.quick else 3,
                                       budget=900, warmup=False)  # fmt: skip
        except common.BenchError as error:
            return common.fail(str(error))
        ours, *theirs = cases
        print(f"\nTree: {size / 1e6:.1f} MB, median of {rounds} rounds")
        rows = [[case.label, common.seconds(case.wall), common.seconds(case.cpu)] for case in cases]
        separate = sum(case.wall for case in theirs)
        rows.append(["the three tools, one after another", common.seconds(separate),
                     common.seconds(sum(case.cpu for case in theirs))])  # fmt: skip
        print(common.table(["command", "wall", "cpu"], rows))
        print(f"Shipyard's full scan takes {ours.wall / separate:.2f}x the wall time of bandit, "
              "detect-secrets and pip-audit's offline part run separately, and adds dependency "
              "matching against 2,661 advisories, config checks and an SBOM.")  # fmt: skip
        print("pip-audit's advisory look-ups need its web services and are not measured here.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
