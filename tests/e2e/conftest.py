"""Whole-flow helpers: real git repositories and the real `shipyard` command in a subprocess."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def report(self) -> dict[str, Any]:
        return json.loads(self.stdout)

    def job(self, key: str) -> dict[str, Any]:
        for job in self.report["jobs"]:
            if job["key"] == key:
                return job
        raise AssertionError(f"no job {key!r} in {[j['key'] for j in self.report['jobs']]}")

    def steps(self, key: str) -> list[tuple[str, str]]:
        return [(s["name"], s["conclusion"]) for s in self.job(key)["steps"]]


def git(root: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.invalid",
    }
    done = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True, env=env
    )
    return done.stdout.strip()


def make_repo(root: Path, files: Mapping[str, str]) -> Path:
    """A git repository with ``files`` (dedented) committed on branch main."""
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


TOOL_CACHE = Path(tempfile.mkdtemp(prefix="shipyard-tool-cache-"))
"""Shared by every run of this test process: interpreters are probed and templated once."""
atexit.register(shutil.rmtree, TOOL_CACHE, True)


def shipyard(
    *args: str, cwd: Path, home: Path, timeout: float = 120, env: Mapping[str, str] | None = None
) -> Result:
    environment = {
        **os.environ,
        "SHIPYARD_HOME": str(home),
        "SHIPYARD_TOOL_CACHE": str(TOOL_CACHE),
        **(env or {}),
    }
    done = subprocess.run(
        [sys.executable, "-m", "shipyard", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def repo(tmp_path: Path):  # type: ignore[no-untyped-def]
    def build(files: Mapping[str, str]) -> Path:
        return make_repo(tmp_path / "repo", files)

    return build


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path
