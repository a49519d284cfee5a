"""``shipyard flags``: publish, inspect and change feature flags, and make flag tokens.

Offline, against ./shipyard.yaml and its flags file: ``check`` validates every flag and
``eval`` evaluates one for a context, exactly as the server and the providers would. Against
the server (started when not running): ``push`` publishes the flags file with the
environment's overrides, ``list``/``get``/``history`` show what an environment serves, and
``enable``/``disable``/``set-default``/``rollout``/``reset`` change a flag at runtime (audited,
and recorded in the environment's history). ``token create`` makes the read-only token an
application evaluates flags with over OFREP.
"""

from __future__ import annotations

import getpass
import json
import socket
import time
from pathlib import Path
from typing import Any

import click

from shipyard.core import errors

ENV_OPTION = click.option("--env", "environment", required=True, help="The environment.")


def _actor() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def _local_flags(environment: str | None) -> tuple[Any, Any]:
    """(project, flags) of ./shipyard.yaml, with ``environment``'s overrides applied."""
    from shipyard.flags import files
    from shipyard.spec import project, project_loader

    local = Path(project.PROJECT_FILE)
    loaded = project_loader.load_project_file(local)
    return loaded, files.project_flags(local.resolve().parent, loaded, environment)


def _refuse_problems(flags: Any) -> None:
    if flags.problems:
        shown = "\n".join(f"  {problem}" for problem in flags.problems)
        raise errors.SpecError(
            f"{len(flags.problems)} invalid flag(s):\n{shown}",
            hint="fix them; `shipyard flags check` validates without a server",
        )


@click.group("flags")
def flags() -> None:
    """Feature flags: flagd's format, served over OFREP."""


@flags.command("check")
@click.option("--env", "environment", help="Also apply this environment's overrides.")
def check(environment: str | None) -> None:
    """Validate the flags file of ./shipyard.yaml (no server needed)."""
    loaded, found = _local_flags(environment)
    for problem in found.problems:
        click.echo(f"error: {problem}", err=True)
    click.echo(
        f"{loaded.flags.file}: {len(found.flags)} valid flag(s), {len(found.problems)} invalid"
    )
    if found.problems:
        raise SystemExit(2)


@flags.command("eval")
@click.argument("flag")
@click.option("--env", "environment", help="Apply this environment's overrides.")
@click.option(
    "--context", "context", default="{}", help='Evaluation context, JSON: {"targetingKey": "u1"}.'
)
def evaluate(flag: str, environment: str | None, context: str) -> None:
    """Evaluate a flag of ./shipyard.yaml's flags file locally, as the server would."""
    from shipyard.flags import evaluator

    try:
        data = json.loads(context)
    except ValueError as error:
        raise errors.UsageError(f"--context: not JSON: {error}") from None
    if not isinstance(data, dict):
        raise errors.UsageError(
            "--context: must be a JSON object", hint='e.g. {"targetingKey": "u1"}'
        )
    _, found = _local_flags(environment)
    result = evaluator.evaluate(found, flag, data)
    body: dict[str, Any] = {"key": flag, "reason": result.reason}
    if result.variant is not None:
        body.update(value=result.value, variant=result.variant)
    if result.error_code:
        body.update(errorCode=result.error_code, errorDetails=result.error_message)
    click.echo(json.dumps(body, sort_keys=True))
    if result.error_code:
        raise SystemExit(1)


def _release_flags(release: str, environment: str) -> tuple[str, Any]:
    """(source, flags) of a built release: its flags file as committed, with the overrides of
    its own shipyard.yaml."""
    from shipyard.deploy import releases
    from shipyard.flags import files
    from shipyard.spec import project, project_loader
    from shipyard.store import paths

    app = project_loader.load_project_file(Path(project.PROJECT_FILE)).app
    root = paths.releases(paths.home())
    try:
        manifest = releases.find_release(root, app, release)
    except releases.ReleaseError as error:
        raise errors.UsageError(f"--release {release}: {error.message}", hint=error.hint) from None
    loaded = releases.load_project(root, manifest)
    tree = releases.tree_dir(root, app, manifest.id)
    found = files.project_flags(tree, loaded, environment)
    return f"{loaded.flags.file}@{manifest.commit[:12]}", found


@flags.command("push")
@ENV_OPTION
@click.option("--release", help="Publish the flags of this built release (id or prefix).")
def push(environment: str, release: str | None) -> None:
    """Publish ./shipyard.yaml's flags file (or a release's), with the environment's overrides,
    to the server."""
    from shipyard.cli import client

    if release is None:
        loaded, found = _local_flags(environment)
        source = str(loaded.flags.file)
    else:
        source, found = _release_flags(release, environment)
    _refuse_problems(found)
    body = {"document": found.document(), "source": source, "actor": _actor()}
    with client.connect() as server:
        served = server.call("PUT", f"/api/v1/flags/{environment}", body=body)
    click.echo(
        f"{environment}: published {len(served['flags'])} flag(s) from {source} "
        f"(revision {served['revision']})"
    )


def _targeting_summary(targeting: Any) -> str:
    if not targeting:
        return "-"
    text = json.dumps(targeting, separators=(",", ":"))
    return text if len(text) <= 48 else text[:45] + "..."


@flags.command("list")
@ENV_OPTION
def list_flags(environment: str) -> None:
    """The flags an environment serves."""
    from shipyard.cli import client

    with client.connect() as server:
        served = server.call("GET", f"/api/v1/flags/{environment}")
    rows = [("FLAG", "STATE", "DEFAULT", "TARGETING", "CHANGED AT RUNTIME")]
    for item in served["flags"]:
        default = item["defaultVariant"] if item["defaultVariant"] is not None else "(code)"
        changed = ",".join(sorted(item["overridden"])) or "-"
        rows.append(
            (item["key"], item["state"], default, _targeting_summary(item["targeting"]), changed)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
            + "  "
            + row[-1]
        )


@flags.command("get")
@click.argument("flag")
@ENV_OPTION
def get(flag: str, environment: str) -> None:
    """One flag as the environment serves it (JSON)."""
    from shipyard.cli import client

    with client.connect() as server:
        found = server.call("GET", f"/api/v1/flags/{environment}/{flag}")
    click.echo(json.dumps(found, indent=2, sort_keys=True))


def _change(environment: str, flag: str, body: dict[str, Any]) -> dict[str, Any]:
    from shipyard.cli import client

    with client.connect() as server:
        changed: dict[str, Any] = server.call(
            "POST", f"/api/v1/flags/{environment}/{flag}/changes", body={**body, "actor": _actor()}
        )
    return changed


@flags.command("enable")
@click.argument("flag")
@ENV_OPTION
def enable(flag: str, environment: str) -> None:
    """Turn a flag on (state ENABLED)."""
    _change(environment, flag, {"action": "enable"})
    click.echo(f"{environment}: flag {flag} enabled")


@flags.command("disable")
@click.argument("flag")
@ENV_OPTION
def disable(flag: str, environment: str) -> None:
    """Turn a flag off (state DISABLED: applications get their code default)."""
    _change(environment, flag, {"action": "disable"})
    click.echo(f"{environment}: flag {flag} disabled")


@flags.command("set-default")
@click.argument("flag")
@click.argument("variant")
@ENV_OPTION
def set_default(flag: str, variant: str, environment: str) -> None:
    """Serve another variant by default."""
    _change(environment, flag, {"action": "set-default", "variant": variant})
    click.echo(f"{environment}: flag {flag} now defaults to {variant}")


@flags.command("rollout")
@click.argument("flag")
@ENV_OPTION
@click.option(
    "--percent",
    type=click.FloatRange(0, 100),
    required=True,
    help="Share of targeting keys, 0-100.",
)
@click.option(
    "--variant", help="The variant rolled out (default for a boolean flag: the true one)."
)
def rollout(flag: str, environment: str, percent: float, variant: str | None) -> None:
    """Serve a variant to a share of targeting keys (flagd's fractional bucketing)."""
    found = _change(
        environment, flag, {"action": "rollout", "percent": percent, "variant": variant}
    )
    on, off = (bucket[0] for bucket in found["targeting"]["fractional"])
    click.echo(
        f"{environment}: flag {flag} serves {on} to {percent:g}% of targeting keys, "
        f"{off} to the rest"
    )


@flags.command("reset")
@click.argument("flag")
@ENV_OPTION
def reset(flag: str, environment: str) -> None:
    """Drop a flag's runtime changes: it is again as published."""
    _change(environment, flag, {"action": "reset"})
    click.echo(f"{environment}: flag {flag} is as published again")


@flags.command("history")
@click.argument("flag", required=False)
@ENV_OPTION
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
def history(flag: str | None, environment: str, limit: int) -> None:
    """Who changed which flag, when, and how (newest first)."""
    from shipyard.cli import client

    params: dict[str, Any] = {"limit": limit}
    if flag:
        params["flag"] = flag
    with client.connect() as server:
        entries = server.call("GET", f"/api/v1/flags/{environment}/audit", params=params)
    for entry in entries:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry["at"]))
        click.echo(f"{when}  {entry['actor'] or '-'}  {entry['action']}  {entry['flag']}")


@flags.group("token")
def token() -> None:
    """Read-only flag tokens for applications (OFREP)."""


@token.command("create")
@ENV_OPTION
@click.option("--name", default="", help="What the token is for.")
def create_token(environment: str, name: str) -> None:
    """Make a token that evaluates the environment's flags; it is shown only now."""
    from shipyard.cli import client

    with client.connect() as server:
        made = server.call(
            "POST", f"/api/v1/flags/{environment}/tokens", body={"name": name, "actor": _actor()}
        )
        url = server.info.url
    click.echo(made["token"])
    click.echo(
        f"# {made['id']}: reads the flags of {environment}; OFREP endpoint {url}/ofrep/v1 "
        "(Authorization: Bearer <token>). It is not shown again.",
        err=True,
    )


@token.command("list")
@ENV_OPTION
def list_tokens(environment: str) -> None:
    """The environment's flag tokens (never the tokens themselves)."""
    from shipyard.cli import client

    with client.connect() as server:
        found = server.call("GET", f"/api/v1/flags/{environment}/tokens")
    for item in found:
        state = "revoked" if item["revoked_at"] else "active"
        click.echo(f"{item['id']}  {state}  {item['name'] or '-'}")


@token.command("revoke")
@click.argument("token_id")
@ENV_OPTION
def revoke_token(token_id: str, environment: str) -> None:
    """Revoke a flag token; applications using it are refused within a second."""
    from shipyard.cli import client

    with client.connect() as server:
        server.call("DELETE", f"/api/v1/flags/{environment}/tokens/{token_id}")
    click.echo(f"{environment}: flag token {token_id} revoked")
