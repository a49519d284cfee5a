"""docs/actions.md's worked example, run step by step.

The runner is not needed to check what the built-ins do: ``uses:`` steps run through the
registry with ``RecordingIO``, ``run:`` steps with bash, each job with its own workspace, the
steps of a job sharing what earlier steps put in the environment, as a job does.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from shipyard.pipeline.actions import interface, registry
from tests.pipeline.actions.conftest import RecordingIO, git
from tests.pipeline.actions.test_setup_python import PY312, PYENV_VERSIONS

DOCS = Path(__file__).resolve().parents[3] / "docs" / "actions.md"
_STEP_OUTPUT = re.compile(r"\$\{\{\s*steps\.([\w-]+)\.outputs\.([\w-]+)\s*\}\}")


def worked_example() -> dict[str, Any]:
    text = DOCS.read_text(encoding="utf-8").split("## Worked example", 1)[1]
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    document: dict[str, Any] = YAML(typ="safe").load(block)
    return document


def run_job(
    job: Mapping[str, Any],
    root: Path,
    *,
    repository: interface.RepositoryInfo,
    tool_cache: Path,
    artifacts: Path,
    env: dict[str, str],
) -> list[str]:
    """Run the job's steps in order; returns what its `run:` steps printed."""
    workspace, temp = root / "workspace", root / "temp"
    workspace.mkdir(parents=True)
    temp.mkdir()
    outputs: dict[str, dict[str, str]] = {}
    printed: list[str] = []

    def render(value: object) -> str:
        return _STEP_OUTPUT.sub(lambda match: outputs[match[1]][match[2]], str(value))

    for step in job["steps"]:
        if "uses" in step:
            action = registry.find_builtin(step["uses"])
            assert action is not None, step["uses"]
            inputs = {name: render(value) for name, value in step.get("with", {}).items()}
            call = interface.ActionCall(
                uses=step["uses"],
                inputs=inputs,
                workspace=workspace,
                temp=temp,
                tool_cache=tool_cache,
                artifacts=artifacts,
                env=dict(env),
                repository=repository,
                job_key="docs",
            )
            io = RecordingIO(env)
            asyncio.run(action.run(call, io))
            env = io.env
            outputs[step.get("id", "")] = io.outputs
        else:
            done = subprocess.run(
                ["bash", "-e", "-c", render(step["run"])],
                cwd=workspace,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            printed.extend(done.stdout.splitlines())
    return printed


@pytest.mark.skipif(PY312 is None, reason="needs CPython 3.12 installed with pyenv")
def test_the_worked_example_in_docs_actions_md(
    make_repo: Callable[..., Path], tmp_path: Path, tool_cache: Path
) -> None:
    source = make_repo(
        {"src/shop.py": "print('shop')\n", "README.md": "shop\n"},
        {"src/shop.py": "print('shop v2')\n"},
    )
    git(source, "tag", "v1.0", "HEAD~1")
    sha = git(source, "rev-parse", "HEAD")
    repository = interface.RepositoryInfo(source, sha, "refs/heads/main", "octo/shop")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path / "home"),
        "PYENV_ROOT": str(PYENV_VERSIONS.parent),
    }
    jobs = worked_example()["jobs"]
    printed = {
        name: run_job(
            jobs[name],
            tmp_path / name,
            repository=repository,
            tool_cache=tool_cache,
            artifacts=tmp_path / "artifacts",
            env=env,
        )
        for name in ("build", "test")  # `test` needs `build`
    }

    assert printed["build"] == []

    shown = printed["test"]
    assert shown[:2] == ["build-info.txt", "shop.py"]
    assert re.fullmatch(r"python 3\.12\.\d+", shown[2])
    assert shown[3:] == [f"v1.0-1-g{sha[:7]}"]
