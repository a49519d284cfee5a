"""What the runner benchmarks share: scratch git repositories, timed commands, interleaved rounds.

Every figure is measured beside its baseline in the same run: each round runs every case once
(in a rotated order, so no case always goes first), and the figures are medians over the rounds.
The machines here are shared and noisy, so wall time is reported together with the CPU time of
the measured process tree (user + system of the waited-for children), and ratios are taken
round by round, each case against the baseline measured moments before or after it.

Every loop is bounded twice: a number of rounds, and a time budget checked after each round; every
command has a timeout, after which its whole process group is killed. Nothing here opens a socket.

What is measured is the installed ``shipyard`` (an editable install of the working tree), or, with
``SHIPYARD_BENCH_REV=<git revision>``, that revision's ``src/`` unpacked into bench/.tools/ and put
first on PYTHONPATH: figures of a clean commit while others are changing the working tree. Each
script prints which one it measured.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
TOOLS = BENCH / ".tools"
"""Tools installed for the benchmarks (gitignored): gitlab-ci-local, and rsync when missing."""

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Shipyard Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "Shipyard Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}


class BenchError(Exception):
    """A benchmark cannot produce its figure (a tool is missing, a run failed)."""


# -- commands -------------------------------------------------------------------------------


def shipyard_command() -> list[str]:
    """The installed ``shipyard`` console script beside this interpreter, as a user runs it."""
    script = Path(sys.executable).parent / "shipyard"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "shipyard"]


@dataclass(frozen=True)
class Sample:
    """One timed command: wall seconds, CPU seconds of its process tree, its exit status."""

    wall: float
    cpu: float
    returncode: int
    stdout: str = ""
    stderr_tail: str = ""


def run_timed(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 120.0,
    keep_stdout: bool = False,
) -> Sample:
    """Run ``argv`` to completion and time it; output goes to scratch files, not to a pipe.

    The command gets its own process group, which is killed whole if ``timeout`` passes.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        child = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        # A blocking wait, and a timer that kills the group: ``wait(timeout=...)`` polls, with
        # sleeps growing to 50 ms, which rounded every time measured here up to the next poll.
        expired = threading.Event()

        def kill() -> None:
            expired.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)

        watchdog = threading.Timer(timeout, kill)
        watchdog.start()
        try:
            returncode = child.wait()
        finally:
            watchdog.cancel()
        wall = time.perf_counter() - started
        if expired.is_set():
            raise BenchError(f"timed out after {timeout:.0f} s: {' '.join(argv)}")
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace") if keep_stdout else ""
        stderr_tail = "\n".join(err.read().decode("utf-8", "replace").splitlines()[-15:])
    return Sample(wall, cpu, returncode, stdout, stderr_tail)


def check(sample: Sample, what: str) -> Sample:
    """``sample`` when its command succeeded; a BenchError with its last log lines otherwise."""
    if sample.returncode != 0:
        raise BenchError(
            f"{what} exited with status {sample.returncode}; last lines of its log:\n"
            f"{sample.stderr_tail}"
        )
    return sample


# -- scratch repositories -------------------------------------------------------------------


@contextlib.contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A temporary directory, removed afterwards (even when a run leaves read-only files)."""
    path = Path(tempfile.mkdtemp(prefix=f"shipyard-bench-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(root), *args],
        check=True,
        env={**os.environ, **GIT_IDENTITY},
        capture_output=True,
        timeout=60,
    )


def git_repo(root: Path, files: Mapping[str, str]) -> Path:
    """A git repository at ``root`` holding ``files`` (path -> text) in one commit on main."""
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    commit_all(root)
    return root


def commit_all(root: Path) -> None:
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "bench")


def shipyard_env(home: Path) -> dict[str, str]:
    """The environment of a measured Shipyard command: its own SHIPYARD_HOME, and the source
    tree of SHIPYARD_BENCH_REV first on PYTHONPATH when that is set."""
    env = {**os.environ, "SHIPYARD_HOME": str(home)}
    tree = source_tree()
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tree), env.get("PYTHONPATH")]))
    return env


# -- which Shipyard -------------------------------------------------------------------------

REVISION_VARIABLE = "SHIPYARD_BENCH_REV"
"""A git revision to measure instead of the working tree (which others may be changing)."""


def _git_output(*args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(REPO), *args], capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


@functools.cache
def source_tree() -> Path | None:
    """``src/`` of the revision named by SHIPYARD_BENCH_REV, unpacked once (with ``examples/``)
    into bench/.tools/ (the installed package is an editable one, so this tree first on
    PYTHONPATH wins); None when it is not set, and the installed code (the working tree) is
    measured."""
    revision = os.environ.get(REVISION_VARIABLE)
    if not revision:
        return None
    sha = _git_output("rev-parse", "--verify", f"{revision}^{{commit}}")
    target = TOOLS / f"src-{sha[:12]}"
    if not (target / "src" / "shipyard").is_dir():
        partial = TOOLS / f".src-{sha[:12]}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", sha, "src", "examples"],
            capture_output=True,
            timeout=120,
            check=False,
        )
        if archive.returncode != 0:
            raise BenchError(f"git archive {sha}: {archive.stderr.decode().strip()}")
        subprocess.run(["tar", "-x", "-C", str(partial)], input=archive.stdout, check=True)
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
    return target / "src"


def examples_dir() -> Path:
    """``examples/`` of the measured code: the revision's, or the working tree's."""
    tree = source_tree()
    return REPO / "examples" if tree is None else tree.parent / "examples"


def describe_source() -> str:
    """Which Shipyard code is measured: a clean revision, or the working tree at HEAD."""
    if source_tree() is not None:
        sha = _git_output("rev-parse", "--short=12", os.environ[REVISION_VARIABLE])
        return f"shipyard: commit {sha} (clean tree, {REVISION_VARIABLE})"
    head = _git_output("rev-parse", "--short=12", "HEAD")
    changed = _git_output("status", "--porcelain", "--", "src")
    suffix = " + uncommitted changes in src/" if changed else " (src/ clean)"
    return f"shipyard: working tree at {head}{suffix}"


def fresh_home(parent: Path) -> Path:
    """An empty SHIPYARD_HOME under ``parent``; the previous one is removed (outside any timing)."""
    home = parent / "home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    return home


# -- rounds ---------------------------------------------------------------------------------


@dataclass
class Case:
    """A measured command: ``measure`` runs it once and returns its sample."""

    label: str
    measure: Callable[[], Sample]
    samples: list[Sample] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)


def interleave(
    cases: Sequence[Case], *, min_rounds: int, max_rounds: int, budget: float, warmup: bool = True
) -> int:
    """Run every case once per round, rotating the order; returns the number of rounds.

    Stops after ``max_rounds``, or after ``min_rounds`` once ``budget`` seconds have passed.
    One unrecorded warm-up round first fills the page cache and Python's bytecode caches.
    """
    if warmup:
        for case in cases:
            case.measure()
    started = time.monotonic()
    rounds = 0
    while rounds < max_rounds:
        shift = rounds % len(cases)
        for case in [*cases[shift:], *cases[:shift]]:
            case.samples.append(case.measure())
        rounds += 1
        if rounds >= min_rounds and time.monotonic() - started > budget:
            break
    return rounds


def paired(case: Case, baseline: Case, value: Callable[[Sample, Sample], float]) -> float:
    """Median over rounds of ``value(case sample, baseline sample)`` from the same round."""
    return statistics.median(
        value(a, b) for a, b in zip(case.samples, baseline.samples, strict=True)
    )


def ratio(case: Case, baseline: Case) -> float:
    """Median of the per-round wall-time ratios case / baseline."""
    return paired(case, baseline, lambda a, b: a.wall / b.wall)


# -- output ---------------------------------------------------------------------------------


def machine() -> str:
    """Cores, CPU model, memory, Python, load average and date; then which Shipyard."""
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
        memory = f", {kib / 1024 / 1024:.1f} GiB"
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"{os.cpu_count()} cores ({model}){memory}, Python {platform.python_version()}, "
        f"load average {load}, {when}\n{describe_source()}"
    )


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain text table: first column left-aligned, the rest right-aligned."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    lines = []
    for row in [headers, *rows]:
        cells = [
            str(cell).ljust(widths[i]) if i == 0 else str(cell).rjust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def verdict(passed: bool) -> str:
    return "PASS" if passed else "MISS"


def fail(message: str) -> int:
    """Print why no figure could be measured; the exit status for it."""
    print(f"NO FIGURE: {message}", file=sys.stderr)
    return 1
