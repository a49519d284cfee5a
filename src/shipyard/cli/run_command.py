"""``shipyard run``: run workflows on this machine, like GitHub would, without a server."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from shipyard.cli import pairs
from shipyard.core import errors
from shipyard.spec import discovery

if TYPE_CHECKING:
    from shipyard.spec import workflow


def _secrets(values: Sequence[str], files: Sequence[str]) -> dict[str, str]:
    from shipyard.spec import dotenv

    result: dict[str, str] = {}
    for file in files:
        result.update(dotenv.parse(_read(file, "--secret-file"), path=file))
    for value in values:
        name, equals, rest = value.partition("=")
        if equals:
            result[name] = rest
        elif name in os.environ:
            result[name] = os.environ[name]
        else:
            raise errors.UsageError(
                f"--secret {name}: no value given and ${name} is not set",
                hint=f"pass --secret {name}=VALUE, set ${name}, or use --secret-file",
            )
    return result


def _read(file: str, flag: str) -> str:
    try:
        return Path(file).read_text(encoding="utf-8")
    except OSError as error:
        raise errors.UsageError(f"{flag} {file}: {error.strerror}", hint="check the path") from None


def _select(
    root: Path, target: str | None, event: str | None
) -> tuple[list[workflow.Workflow], str]:
    """The workflows to run and the event to run them for."""
    if target is not None and Path(target).is_file():
        from shipyard.spec import workflow_loader

        path = Path(target).resolve()
        try:
            display = str(path.relative_to(root))
        except ValueError:
            display = target
        chosen = [workflow_loader.load_workflow_file(path, display_path=display)]
    else:
        every = discovery.load_workflows(root)
        if not every:
            raise errors.UsageError(
                f"no workflows in {root}",
                hint="add one under .github/workflows/ or .shipyard/workflows/",
            )
        chosen = every if target is None else _by_name(every, target)
    if event is None:
        event = _default_event(chosen[0])
    if target is None:
        chosen = [w for w in chosen if event in w.on.events]
        if not chosen:
            raise errors.UsageError(
                f"no workflow runs on `{event}`", hint="pass --event, or name the workflow"
            )
    elif event not in chosen[0].on.events and event != "workflow_call":
        listed = ", ".join(chosen[0].on.events) or "nothing"
        raise errors.UsageError(
            f"{chosen[0].path} does not run on `{event}`; it runs on {listed}",
            hint=f"pass --event {next(iter(chosen[0].on.events), 'push')}",
        )
    return chosen, event


def _by_name(every: list[workflow.Workflow], target: str) -> list[workflow.Workflow]:
    for candidate in every:
        stem = Path(candidate.path).stem
        if target in {candidate.path, Path(candidate.path).name, stem, candidate.name}:
            return [candidate]
    from shipyard.core import suggest

    names = [Path(w.path).name for w in every]
    raise errors.UsageError(
        f"no workflow named `{target}`", hint=suggest.did_you_mean(target, names, noun="workflow")
    )


def _default_event(chosen: workflow.Workflow) -> str:
    for event in ("push", "workflow_dispatch", "pull_request"):
        if event in chosen.on.events:
            return event
    return next(iter(chosen.on.events), "push")


class _Option(NamedTuple):
    """One option of ``shipyard run``: its flags, its parameter and how it takes a value."""

    flags: tuple[str, ...]
    name: str
    kind: str
    """``value`` (one string), ``many`` (repeatable), ``flag`` or ``count`` (an integer >= 1)."""
    help: str
    metavar: str | None = None
    default: str | None = None


OPTIONS: tuple[_Option, ...] = (
    _Option(
        ("-C", "--directory"),
        "directory",
        "value",
        "Repository to run (default: here).",
        default=".",
    ),
    _Option(("--event",), "event_name", "value", "Event that triggers the run (default: push)."),
    _Option(("--event-path",), "event_path", "value", "JSON file with the event payload."),
    _Option(("--ref",), "ref", "value", "Branch, tag or commit to run (default: HEAD)."),
    _Option(("--input",), "inputs", "many", "workflow_dispatch input.", "K=V"),
    _Option(("--job",), "jobs", "many", "Run only this job (and needs).", "ID"),
    _Option(("--matrix",), "matrix", "many", "Only these combinations.", "K=V"),
    _Option(("--secret",), "secret_values", "many", "A secret.", "K[=V]"),
    _Option(("--secret-file",), "secret_files", "many", "A KEY=VALUE file of secrets."),
    _Option(("--var",), "variables", "many", "A `vars` value.", "K=V"),
    _Option(
        ("--environment",),
        "environment",
        "value",
        "Give jobs ENV's secrets and vars (.shipyard/secrets).",
        "ENV",
    ),
    _Option(("--env-file",), "env_files", "many", "A KEY=VALUE file for every step."),
    _Option(("--label-map",), "label_map", "many", "Map labels.", "LABEL=local"),
    _Option(("--jobs",), "parallel", "count", "Jobs at once (default: CPUs)."),
    _Option(("--dry-run",), "dry_run", "flag", "Print the planned job graph; run nothing."),
    _Option(("--list",), "list_only", "flag", "List workflows and their jobs."),
    _Option(("--json",), "as_json", "flag", "Write the run report to standard output."),
    _Option(
        ("--no-cache",), "no_cache", "flag", "Run every job; do not replay from the job cache."
    ),
    _Option(
        ("--explain-cache",), "explain_cache", "flag", "Say why each job missed the job cache."
    ),
)
"""The options, in the order ``--help`` lists them: the one table both parsers are built from."""


def __getattr__(name: str) -> Any:
    """``run``, the click command, is built on first use: ``parse`` needs no click."""
    if name != "run":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import click

    command: Any = execute
    for option in reversed(OPTIONS):
        settings: dict[str, Any] = {"help": option.help}
        if option.metavar is not None:
            settings["metavar"] = option.metavar
        if option.default is not None:
            settings["default"] = option.default
        if option.kind == "flag":
            settings["is_flag"] = True
        elif option.kind == "many":
            settings["multiple"] = True
        elif option.kind == "count":
            settings["type"] = click.IntRange(min=1)
        command = click.option(*option.flags, option.name, **settings)(command)
    command = click.argument("target", required=False, metavar="[WORKFLOW]")(command)
    built = click.command(name="run")(command)
    globals()["run"] = built
    return built


def parse(args: Sequence[str]) -> dict[str, Any] | None:
    """The parameters click would give ``execute`` for ``args``; None for anything unusual.

    The common command lines (``shipyard run``, ``run ci.yml --json --jobs 4``, ...) are parsed
    here, without importing click, which is a tenth of a short run's start-up. ``--help``, a
    mistake, a value that looks like an option: None, and click parses (and explains) them.
    """
    by_flag = {flag: option for option in OPTIONS for flag in option.flags}
    params: dict[str, Any] = {"target": None}
    for option in OPTIONS:
        params[option.name] = {"many": (), "flag": False}.get(option.kind, option.default)
    rest = list(args)
    while rest:
        token = rest.pop(0)
        if not token.startswith("-") or token == "-":
            if params["target"] is not None:
                return None
            params["target"] = token
            continue
        flag, equals, value = token.partition("=") if token.startswith("--") else (token, "", "")
        found = by_flag.get(flag)
        if found is None:
            return None
        if found.kind == "flag":
            if equals:
                return None
            params[found.name] = True
            continue
        if not equals:
            if not rest or rest[0].startswith("-"):
                return None
            value = rest.pop(0)
        if found.kind == "many":
            params[found.name] = (*params[found.name], value)
        elif found.kind == "count":
            if not value.isascii() or not value.isdigit() or int(value) < 1:
                return None
            params[found.name] = int(value)
        else:
            params[found.name] = value
    return params


def _echo(text: str, *, end: str = "\n") -> None:
    sys.stdout.write(text + end)
    sys.stdout.flush()


def _warn(text: str) -> None:
    sys.stdout.flush()
    sys.stderr.write(f"warning: {text}\n")
    sys.stderr.flush()


def execute(
    target: str | None,
    directory: str,
    event_name: str | None,
    event_path: str | None,
    ref: str | None,
    inputs: tuple[str, ...],
    jobs: tuple[str, ...],
    matrix: tuple[str, ...],
    secret_values: tuple[str, ...],
    secret_files: tuple[str, ...],
    variables: tuple[str, ...],
    environment: str | None,
    env_files: tuple[str, ...],
    label_map: tuple[str, ...],
    parallel: int | None,
    dry_run: bool,
    list_only: bool,
    as_json: bool,
    no_cache: bool,
    explain_cache: bool,
) -> None:
    """Run a workflow on this machine (all workflows for the event when none is named)."""
    start = Path(directory).resolve()
    if list_only:
        from shipyard.cli import run_listing

        _echo(run_listing.list_text(start), end="")
        return
    from shipyard.pipeline.run import repository

    repo = repository.discover(start, ref)
    run_key = None
    # A run with an environment's secrets is not replayed: the key would not cover them.
    if not dry_run and not no_cache and not explain_cache and environment is None:
        from shipyard.cli import run_replay

        picked = run_replay.pick(repo.root, target, event_name)
        if picked is not None:
            given = _secrets(secret_values, secret_files)
            run_key = run_replay.key_for(repo.root, repo.sha, repo.ref, picked, locals(), given)
            if run_key is not None:
                replayed = run_replay.replay_and_show(run_key, as_json=as_json)
                if replayed is not None:
                    sys.exit(replayed)
    chosen, event = _select(repo.root, target, event_name)
    if dry_run:
        from shipyard.cli import run_listing

        given = pairs.key_values(inputs, "--input", "name=value")
        for item in chosen:
            _echo(run_listing.plan_text(item, jobs, given, event))
        return
    sys.exit(_run(chosen, event, repo, locals(), run_key))


def _run(
    chosen: list[workflow.Workflow],
    event: str,
    repo: Any,
    flags: dict[str, Any],
    run_key: Any = None,
) -> int:
    from shipyard.cli import run_view
    from shipyard.pipeline.run import options, session
    from shipyard.spec import dotenv

    env: dict[str, str] = {}
    for file in flags["env_files"]:
        env.update(dotenv.parse(_read(file, "--env-file"), path=file))
    payload: dict[str, Any] = {}
    if flags["event_path"]:
        try:
            payload = json.loads(_read(flags["event_path"], "--event-path"))
        except json.JSONDecodeError as error:
            raise errors.UsageError(
                f"--event-path {flags['event_path']}: not JSON ({error.msg})",
                location=errors.SourceLocation(flags["event_path"], error.lineno, error.colno),
            ) from None
    common = {
        "repository": repo,
        "home": options.default_home(),
        "event_name": event,
        "event": payload,
        "inputs": pairs.key_values(flags["inputs"], "--input", "name=value"),
        "secrets": _secrets(flags["secret_values"], flags["secret_files"]),
        "variables": pairs.key_values(flags["variables"], "--var", "NAME=value"),
        "env": env,
        "jobs": tuple(flags["jobs"]),
        "matrix": pairs.key_values(flags["matrix"], "--matrix", "python=3.12"),
        "label_map": pairs.key_values(flags["label_map"], "--label-map", "gpu=ubuntu-latest"),
        "use_cache": not flags["no_cache"],
        "explain_cache": flags["explain_cache"],
    }
    if flags["parallel"]:
        common["parallel_jobs"] = flags["parallel"]
    _add_environment(common, repo.root, flags["environment"])
    run_options = options.RunOptions(**common)
    view_stream = sys.stderr if flags["as_json"] else sys.stdout
    reports = []
    failed = False
    for item in chosen:
        outcome = session.execute(item, run_options, [run_view.TerminalView(view_stream)])
        reports.append(outcome.report)
        if run_key is not None and len(chosen) == 1:
            from shipyard.pipeline.run import runcache

            runcache.record(run_options.home, run_key, outcome.report)
        failed = failed or outcome.conclusion != "success"
    if flags["as_json"]:
        document: Any = (
            reports[0]
            if len(reports) == 1
            else {
                "conclusion": "failure" if failed else "success",
                "runs": reports,
            }
        )
        from shipyard.cli import run_replay

        _echo(run_replay.report_json(document))
    return 1 if failed else 0


def _add_environment(common: dict[str, Any], root: Path, environment: str | None) -> None:
    """``--environment``'s secrets and vars under the flags', and a loader for ``environment:``.

    Nothing is decrypted (nor any crypto imported) unless a run asks for an environment.
    """
    from shipyard.secrets import masking, run_contexts

    home = common["home"]
    if environment is not None:
        found = run_contexts.require(root, environment, home=home)
        common["secrets"] = {**found.secrets, **common["secrets"]}
        common["variables"] = {**found.vars, **common["variables"]}
    for name, value in common["secrets"].items():
        if value.strip() and len(value.strip()) < masking.MIN_MASKED_LENGTH:
            _warn(
                f"secret `{name}` is shorter than {masking.MIN_MASKED_LENGTH} "
                "characters and is not masked"
            )
    load = run_contexts.loader(root, home=home)

    def for_job(name: str) -> tuple[dict[str, str], dict[str, str]]:
        found = load(name)
        for warning in found.warnings:
            _warn(warning)
        return found.secrets, found.vars

    common["environment_loader"] = for_job
