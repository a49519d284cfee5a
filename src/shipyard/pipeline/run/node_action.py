"""JavaScript actions: ``runs.using: node20`` (or node16/node24), run with the machine's ``node``.

Inputs reach the script as ``INPUT_<NAME>`` variables, as actions/toolkit reads them. ``pre`` runs
just before ``main`` (GitHub runs it at the start of the job); ``post`` runs after the job's steps,
when ``post-if`` (default ``always()``) holds.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard import expressions
from shipyard.core import errors
from shipyard.pipeline.run import step_io, uses

if TYPE_CHECKING:
    from shipyard.pipeline.run import steps
    from shipyard.spec import action_file


async def run(
    caller: steps.StepRunner,
    io: step_io.StepIO,
    directory: Path,
    definition: action_file.ActionDefinition,
    inputs: Mapping[str, str],
) -> int:
    node = shutil.which("node", path=io.env.get("PATH"))
    if node is None:
        raise errors.ActionNotAvailable(
            f"action `{definition.name}` needs Node.js, and `node` is not on PATH",
            hint="install Node.js (e.g. Debian's `nodejs` package)",
        )
    env = dict(io.env)
    for name, value in inputs.items():
        env[uses.input_env_name(name)] = value
    env["GITHUB_ACTION_PATH"] = str(directory)
    host = caller.job
    if definition.pre:
        if not _condition(host, definition.pre_if):
            io.runner_note("skipping `pre`: its pre-if is false")
        else:
            status = await io.run_command(
                [node, str(directory / definition.pre)], cwd=io.cwd, env=env
            )
            if status != 0:
                return status
    assert definition.main is not None
    status = await io.run_command([node, str(directory / definition.main)], cwd=io.cwd, env=env)
    if definition.post:
        script = str(directory / definition.post)

        async def post(post_io: step_io.StepIO) -> int:
            if not _condition(host, definition.post_if):
                post_io.runner_note("skipping: its post-if is false")
                return 0
            post_env = dict(post_io.env)
            post_env.update({k: v for k, v in env.items() if k.startswith("INPUT_")})
            post_env["GITHUB_ACTION_PATH"] = str(directory)
            return await post_io.run_command([node, script], cwd=post_io.cwd, env=post_env)

        host.add_post_step(definition.name, post)
    return status


def _condition(host: steps.StepHost, condition: str | None) -> bool:
    text = condition or "always()"
    return expressions.evaluate_condition(text, host.contexts(), hooks=host.hooks())
