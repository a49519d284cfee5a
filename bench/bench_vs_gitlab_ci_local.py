"""Against a peer: the 10 jobs x 20 steps shape run by gitlab-ci-local and by ``shipyard run``.

The same work in both: ten jobs, each running ``true`` twenty times. gitlab-ci-local gets it as a
``.gitlab-ci.yml`` with the ten jobs in one stage (GitLab runs the jobs of a stage in parallel;
gitlab-ci-local starts them all at once unless ``--concurrency`` says otherwise), on its shell
executor (``--shell-executor-no-image``: no image, no container). Shipyard gets it as a
workflow with ten jobs of twenty ``run: true`` steps, at its default ``--jobs`` (one per CPU).
The two are not the same model: a GitLab job runs its whole ``script`` in one shell, so
gitlab-ci-local starts ten shells where Shipyard starts two hundred (one process per step, as
GitHub does).

gitlab-ci-local is measured twice: with its defaults, and with JSON schema validation off
(``--no-json-schema-validation``), its fastest configuration; the verdict is taken against the
faster of the two. Neither run touches the network: the pipeline has no remote ``include``, the
git remote is a name that is never contacted (gitlab-ci-local only parses it for its predefined
variables), and this version has no update check.

gitlab-ci-local (npm, pinned below) is installed into bench/.tools/ when missing; it needs rsync,
which is unpacked there from the distribution's package when the machine has none. When either
cannot be had, the script says so and exits 1: there is no figure without the peer.

Run: .venv/bin/python bench/bench_vs_gitlab_ci_local.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import _common as common
import bench_step_overhead

GITLAB_CI_LOCAL_VERSION = "4.73.0"
"""The newest release that runs on Node 20 (4.74.0 and later need Node 22: Set.prototype.union)."""

JOBS, STEPS = bench_step_overhead.JOBS, bench_step_overhead.STEPS
GCL_FLAGS = ["--shell-executor-no-image", "--no-color"]
FASTEST = ["--no-json-schema-validation"]


def gitlab_ci() -> str:
    lines = ["stages: [test]", ""]
    for job in range(JOBS):
        lines += [f"job{job}:", "  stage: test", "  script:"]
        lines += ['    - "true"'] * STEPS
    return "\n".join(lines) + "\n"


# -- tools ----------------------------------------------------------------------------------


def _install(argv: list[str], what: str, cwd: Path) -> None:
    try:
        done = subprocess.run(
            argv, cwd=cwd, capture_output=True, text=True, timeout=300, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise common.BenchError(f"cannot install {what}: {error}") from error
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-10:])
        raise common.BenchError(f"cannot install {what} (`{' '.join(argv)}`):\n{tail}")


def gitlab_ci_local() -> Path:
    """The pinned gitlab-ci-local under bench/.tools/, installed with npm when missing."""
    binary = common.TOOLS / "node_modules" / ".bin" / "gitlab-ci-local"
    missing = [tool for tool in ("node", "npm") if not shutil.which(tool)]
    if missing:
        raise common.BenchError(f"gitlab-ci-local needs node and npm; not on PATH: {missing}")
    if binary.exists() and installed_version(binary) == GITLAB_CI_LOCAL_VERSION:
        return binary
    common.TOOLS.mkdir(parents=True, exist_ok=True)
    print(f"installing gitlab-ci-local {GITLAB_CI_LOCAL_VERSION} into {common.TOOLS} ...")
    _install(
        [
            "npm",
            "install",
            "--prefix",
            str(common.TOOLS),
            "--no-audit",
            "--no-fund",
            f"gitlab-ci-local@{GITLAB_CI_LOCAL_VERSION}",
        ],
        "gitlab-ci-local",
        common.TOOLS,
    )
    version = installed_version(binary)
    if version != GITLAB_CI_LOCAL_VERSION:
        raise common.BenchError(f"gitlab-ci-local was installed but does not run: {version}")
    return binary


def installed_version(binary: Path) -> str:
    try:
        done = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except OSError as error:
        return str(error)
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[-1] if lines else "no output"


def rsync_directory() -> Path | None:
    """A directory to put first on PATH so that ``rsync`` runs; None when the machine has it.

    gitlab-ci-local copies the repository with rsync before every pipeline. Without one on the
    machine, the distribution's rsync (and libpopt, the one library it needs that is often
    missing) are unpacked into bench/.tools/rsync/ and run through a small wrapper.
    """
    if shutil.which("rsync"):
        return None
    root = common.TOOLS / "rsync"
    wrapper = root / "bin" / "rsync"
    if not wrapper.exists():
        if not shutil.which("apt-get") or not shutil.which("dpkg"):
            raise common.BenchError("gitlab-ci-local needs rsync; install it (no apt-get here)")
        print(f"unpacking rsync into {root} (apt-get download rsync libpopt0) ...")
        debs = root / "debs"
        debs.mkdir(parents=True, exist_ok=True)
        _install(["apt-get", "download", "rsync", "libpopt0"], "rsync", debs)
        for deb in sorted(debs.glob("*.deb")):
            _install(["dpkg", "-x", str(deb), str(root / "files")], "rsync", root)
        libraries = root / "files" / "usr" / "lib" / "x86_64-linux-gnu"
        wrapper.parent.mkdir(parents=True, exist_ok=True)
        wrapper.write_text(
            "#!/bin/sh\n"
            f'LD_LIBRARY_PATH="{libraries}${{LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}}" '
            f'exec "{root / "files" / "usr" / "bin" / "rsync"}" "$@"\n'
        )
        wrapper.chmod(0o755)
    done = subprocess.run(
        [str(wrapper), "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    if done.returncode != 0:
        raise common.BenchError(f"the unpacked rsync does not run: {done.stderr.strip()}")
    return wrapper.parent


# -- the benchmark --------------------------------------------------------------------------


def main() -> int:
    binary = gitlab_ci_local()
    extra_path = rsync_directory()
    with common.scratch("peer") as scratch:
        shipyard_repo = common.git_repo(
            scratch / "shipyard", {".github/workflows/steps.yml": bench_step_overhead.workflow()}
        )
        gitlab_repo = common.git_repo(scratch / "gitlab", {".gitlab-ci.yml": gitlab_ci()})
        # Only parsed, for CI_PROJECT_* variables; a default branch spares it a failing lookup.
        common.git(gitlab_repo, "remote", "add", "origin", "https://gitlab.invalid/bench/p.git")
        common.git(gitlab_repo, "update-ref", "refs/remotes/origin/main", "HEAD")
        common.git(
            gitlab_repo, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main"
        )
        gitlab_env = dict(os.environ)
        if extra_path is not None:
            gitlab_env["PATH"] = f"{extra_path}{os.pathsep}{gitlab_env.get('PATH', '')}"
        shipyard = common.shipyard_command()

        def run_shipyard() -> common.Sample:
            home = common.fresh_home(scratch)
            sample = common.run_timed(
                [*shipyard, "run", "--json"], cwd=shipyard_repo, env=common.shipyard_env(home)
            )
            return common.check(sample, "shipyard run")

        def run_gitlab(*flags: str) -> common.Sample:
            # Each pipeline starts from a clean state directory, as each Shipyard run does.
            shutil.rmtree(gitlab_repo / ".gitlab-ci-local", ignore_errors=True)
            sample = common.run_timed(
                [str(binary), *GCL_FLAGS, *flags], cwd=gitlab_repo, env=gitlab_env
            )
            return common.check(sample, "gitlab-ci-local")

        cpus = os.cpu_count() or 1
        ours = common.Case(f"shipyard run (--jobs {cpus}, the default)", run_shipyard)
        peer = common.Case("gitlab-ci-local (defaults)", run_gitlab)
        fastest = common.Case(
            "gitlab-ci-local --no-json-schema-validation", lambda: run_gitlab(*FASTEST)
        )
        cases = [ours, peer, fastest]
        rounds = common.interleave(cases, min_rounds=3, max_rounds=9, budget=45)

    print(f"Against gitlab-ci-local {GITLAB_CI_LOCAL_VERSION}: {JOBS} jobs x {STEPS} steps")
    print(common.machine())
    print(f"median of {rounds} interleaved rounds (after one warm-up round)\n")
    rows = []
    for case in cases:
        rows.append(
            [
                case.label,
                common.seconds(case.wall),
                common.seconds(case.cpu),
                "" if case is ours else f"{common.ratio(ours, case):.2f}",
            ]
        )
    print(common.table(["", "wall", "CPU", "shipyard / this"], rows))
    print()
    best = min((peer, fastest), key=lambda case: case.wall)
    relative = common.ratio(ours, best)
    passed = relative < 1
    print(
        f"{common.verdict(passed)}: shipyard {common.seconds(ours.wall)} vs {best.label} "
        f"{common.seconds(best.wall)}: shipyard takes {relative:.2f}x its time "
        "(target: faster, below 1.00x)"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except common.BenchError as error:
        sys.exit(common.fail(str(error)))
