"""Fixtures for the built-in actions: a real ``ActionIO`` and real directories around a call.

``RecordingIO`` is a second implementation of ``interface.ActionIO`` (the runner's ``StepIO`` is
the first): it really runs each command in its own process group and records what the action
logged, warned, set, exported and added to PATH, so a test asserts exactly what a step shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from shipyard.pipeline.actions import interface


class RecordingIO:
    """Runs commands for real and records everything an action does through ``ActionIO``."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)
        self.lines: list[str] = []
        self.warnings: list[str] = []
        self.outputs: dict[str, str] = {}
        self.exported: dict[str, str] = {}
        self.paths: list[str] = []
        self.masks: list[str] = []
        self.commands: list[list[str]] = []

    def log(self, line: str) -> None:
        self.lines.append(line)

    def warning(self, message: str) -> None:
        self.warnings.append(message)

    def set_output(self, name: str, value: str) -> None:
        self.outputs[name] = value

    def export_env(self, name: str, value: str) -> None:
        self.exported[name] = value
        self.env[name] = value

    def add_path(self, path: str) -> None:
        self.paths.append(path)
        self.env["PATH"] = f"{path}{os.pathsep}{self.env.get('PATH', '')}"

    def add_mask(self, value: str) -> None:
        self.masks.append(value)

    async def run_command(
        self, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str] | None = None
    ) -> int:
        self.commands.append(list(argv))
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env=dict(self.env if env is None else env),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        assert process.stdout is not None
        try:
            async for raw in process.stdout:
                self.lines.append(raw.decode("utf-8", errors="replace").rstrip("\n"))
            return await process.wait()
        except BaseException:
            # Cancelled (a sibling probe failed, the test's loop is closing): as the runner
            # does, stop the whole group and reap it, so no process outlives its test.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await asyncio.shield(process.wait())
            raise

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def ran(self, program: str) -> list[list[str]]:
        """The commands run whose program (or, through /bin/sh, whose real program) is this."""
        found = []
        for argv in self.commands:
            real = argv[4:] if argv[:2] == ["/bin/sh", "-c"] else argv
            if real and Path(real[0]).name == program:
                found.append(real)
        return found


@dataclass
class Harness:
    """The surroundings of one action call: a job's directories and the step environment."""

    root: Path
    tool_cache: Path
    repository: interface.RepositoryInfo
    env: dict[str, str] = field(default_factory=dict)

    @property
    def workspace(self) -> Path:
        return self.root / "workspace"

    @property
    def temp(self) -> Path:
        return self.root / "temp"

    @property
    def artifacts(self) -> Path:
        return self.root / "artifacts"

    @property
    def home(self) -> Path:
        return self.root / "home"

    def call(self, uses: str, inputs: Mapping[str, str] | None = None) -> interface.ActionCall:
        return interface.ActionCall(
            uses=uses,
            inputs=dict(inputs or {}),
            workspace=self.workspace,
            temp=self.temp,
            tool_cache=self.tool_cache,
            artifacts=self.artifacts,
            env=dict(self.env),
            repository=self.repository,
            job_key="test",
        )

    def run(
        self, action: interface.BuiltinAction, inputs: Mapping[str, str] | None = None
    ) -> RecordingIO:
        """Run the action to completion; ActionFailed propagates."""
        io = RecordingIO(self.env)
        asyncio.run(action.run(self.call(action.names[0], inputs), io))
        return io


@pytest.fixture(scope="session")
def tool_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tool cache for the session, shared by xdist workers, so slow first-time work (a
    template venv per interpreter) happens once; the actions make sharing it safe."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the session's directory, above each worker's own
    shared = base / "shared-tool-cache"
    shared.mkdir(exist_ok=True)
    return shared


@pytest.fixture
def harness(tmp_path: Path, tool_cache: Path) -> Harness:
    root = tmp_path / "job"
    for name in ("workspace", "temp", "artifacts", "home"):
        (root / name).mkdir(parents=True)
    repository = interface.RepositoryInfo(
        root=tmp_path / "source", sha="", ref="refs/heads/main", name="octo/shop"
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(root / "home"),
        "LANG": "C.UTF-8",
    }
    return Harness(root=root, tool_cache=tool_cache, repository=repository, env=env)


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` for test set-up; returns standard output without the newline."""
    done = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., Path]:
    """Create a git repository with one commit per mapping of files; returns its root."""

    def make(*commits: Mapping[str, str], branch: str = "main") -> Path:
        root = tmp_path / "source"
        root.mkdir(exist_ok=True)
        git(root, "init", "--quiet", f"--initial-branch={branch}")
        for number, files in enumerate(commits, start=1):
            for name, text in files.items():
                path = root / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
            git(root, "add", "--all")
            git(root, "commit", "--quiet", "--message", f"commit {number}")
        return root

    return make
