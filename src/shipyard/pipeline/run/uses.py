"""``uses:`` in a step: find the action and run it.

Three kinds run here: Shipyard's built-ins (``actions/checkout`` ...), actions whose files are on
this machine — ``./path`` in the workspace, or ``owner/repo@ref`` unpacked under
``$SHIPYARD_HOME/actions/owner/repo@ref`` — written as composite or JavaScript (node) actions.
Anything else fails before it runs, naming the action and how to provide it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.core import errors
from shipyard.core.frozen import frozen
from shipyard.pipeline.actions import interface, registry
from shipyard.pipeline.run import composite, node_action, step_io
from shipyard.spec import action_file

if TYPE_CHECKING:
    from shipyard.pipeline.run import steps


@frozen
class LocatedAction:
    """An action found on disk: its directory and parsed ``action.yml``."""

    directory: Path
    definition: action_file.ActionDefinition
    reference: str
    inputs: Mapping[str, str] = field(default_factory=dict)


def actions_directory(home: Path) -> Path:
    return home / "actions"


def split_reference(uses: str) -> tuple[str, str, str, str]:
    """``owner/repo/path@ref`` -> (owner, repo, path, ref)."""
    name, _, ref = uses.partition("@")
    parts = name.split("/")
    owner = parts[0]
    repo = parts[1] if len(parts) > 1 else ""
    return owner, repo, "/".join(parts[2:]), ref


def remote_directory(home: Path, uses: str) -> Path:
    owner, repo, path, ref = split_reference(uses)
    base = actions_directory(home) / owner / f"{repo}@{ref}"
    return base / path if path else base


def check_available(uses: str, home: Path) -> None:
    """Fail before the job starts when a remote action cannot run here."""
    if uses.startswith(("./", "docker://")) or registry.find_builtin(uses) is not None:
        return
    directory = remote_directory(home, uses)
    if not _find_action_file(directory):
        raise errors.ActionNotAvailable(
            f"action `{uses}` is not available on this machine",
            hint=f"Shipyard runs offline: put the action's files (its action.yml and built "
            f"JavaScript) in {directory}, or use a built-in: "
            + ", ".join(sorted(registry.BUILTINS)),
        )


def _find_action_file(directory: Path) -> Path | None:
    for name in ("action.yml", "action.yaml"):
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


async def run_action(runner: steps.StepRunner, io: step_io.StepIO) -> int:
    """Run the step's action; returns 0 on success, non-zero on failure."""
    uses = runner.step.uses
    assert uses is not None
    host = runner.job
    contexts = host.contexts(env=runner.env_context)
    inputs = {name: host.render(value, contexts) for name, value in runner.step.with_.items()}
    builtin = registry.find_builtin(uses)
    if builtin is not None:
        return await _run_builtin(builtin, uses, inputs, runner, io)
    located = _locate(uses, host)
    resolved = _with_defaults(located, inputs, host, contexts)
    using = located.definition.using
    if using == "composite":
        return await composite.run(runner, io, located.directory, located.definition, resolved)
    if using.startswith("node"):
        return await node_action.run(runner, io, located.directory, located.definition, resolved)
    raise errors.ActionNotAvailable(
        f"action `{uses}` uses `{using}`, which Shipyard cannot run",
        hint="Shipyard runs composite and JavaScript (node) actions; docker actions need a "
        "container runtime",
    )


async def _run_builtin(
    builtin: interface.BuiltinAction,
    uses: str,
    inputs: Mapping[str, str],
    runner: steps.StepRunner,
    io: step_io.StepIO,
) -> int:
    host = runner.job
    call = interface.ActionCall(
        uses=uses,
        inputs=inputs,
        workspace=host.paths.workspace,
        temp=host.paths.temp,
        tool_cache=host.paths.tool_cache,
        artifacts=host.run.artifacts,
        env=io.env,
        repository=host.run.options.repository,
        job_key=host.ref.key,
        cache_root=host.run.options.home / "cache",
    )
    try:
        await builtin.run(call, io)
    except interface.ActionFailed as failure:
        io.error(failure.render())
        return 1
    finally:
        for name, action, if_success in io.post_steps:
            host.add_post_step(name, _post(host, action, if_success=if_success))
        io.post_steps.clear()
    if "actions/upload-artifact" in builtin.names:
        host.record_upload(call.input("name", "artifact"))
    return 0


def _post(
    host: Any, action: Callable[[interface.ActionIO], Awaitable[None]], *, if_success: bool
) -> steps.PostAction:
    """A built-in's post step: skipped unless the job succeeded when ``if_success``."""

    async def post(io: step_io.StepIO) -> int:
        if if_success and (host.status != "success" or host.cancelled):
            io.runner_note("skipped: the job has not succeeded")
            return 0
        try:
            await action(io)
        except interface.ActionFailed as failure:
            io.error(failure.render())
            return 1
        return 0

    return post


def _locate(uses: str, host: Any) -> LocatedAction:
    if uses.startswith("./"):
        directory = host.paths.workspace / uses
        missing_hint = (
            "check out the repository first (actions/checkout) so the action's files exist"
        )
    else:
        directory = remote_directory(host.run.options.home, uses)
        missing_hint = f"put the action's files in {directory}"
    file = _find_action_file(directory)
    if file is None:
        raise errors.ActionNotAvailable(
            f"can't find 'action.yml' or 'action.yaml' for action `{uses}` in {directory}",
            hint=missing_hint,
        )
    definition = action_file.load_action_file(file)
    return LocatedAction(directory=directory, definition=definition, reference=uses)


def _with_defaults(
    located: LocatedAction, given: Mapping[str, str], host: Any, contexts: Mapping[str, Any]
) -> dict[str, str]:
    """The action's inputs: given values, then the defaults its action.yml declares."""
    declared = located.definition.inputs
    resolved: dict[str, str] = {}
    lowered = {name.lower(): value for name, value in given.items()}
    for name, spec in declared.items():
        if name.lower() in lowered:
            resolved[name] = lowered.pop(name.lower())
        elif spec.default is not None:
            resolved[name] = host.render(spec.default, contexts)
        else:
            resolved[name] = ""
    for name, value in given.items():
        if name.lower() in lowered:
            resolved[name] = value
    return resolved


def input_env_name(name: str) -> str:
    """``INPUT_<NAME>`` as actions/toolkit reads it: upper case, spaces to underscores."""
    return "INPUT_" + name.replace(" ", "_").upper()
