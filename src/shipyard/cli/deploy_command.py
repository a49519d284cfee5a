"""``shipyard deploy|deploys|rollback|promote|abort|approve|reject``: deploys through the server.

``deploy ENV`` builds the release of ``--ref`` (default ``HEAD``) when needed, asks the server to
roll it out with the environment's strategy, and follows it event by event until it ends (exit 0
when it succeeded, 1 otherwise, with the reason), pauses at a canary step, or waits for approval.
The rollout runs on the server: interrupting this command does not stop it (``abort`` does).
"""

from __future__ import annotations

import getpass
import subprocess
import time
from pathlib import Path
from typing import Any

import click

from shipyard.cli import pairs
from shipyard.core import errors

FINISHED = ("succeeded", "failed", "aborted", "rejected", "interrupted")
POLL = 0.05


class DeployFailed(errors.ExecutionError):
    """The deploy ended without succeeding."""

    exit_code = 1


def actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name for this uid
        return "unknown"


def _git(repository: Path, *args: str) -> str | None:
    done = subprocess.run(
        ["git", *args], cwd=repository, capture_output=True, text=True, check=False, timeout=60
    )
    return done.stdout.strip() if done.returncode == 0 else None


def branch_of(repository: Path, ref: str, commit: str) -> str:
    """The branch a deploy comes from: ``ref`` when it names one, else the checked-out branch
    when the commit is on it; empty when neither."""
    full = _git(repository, "rev-parse", "--symbolic-full-name", ref)
    if full and full.startswith("refs/heads/"):
        return full[len("refs/heads/") :]
    current = _git(repository, "symbolic-ref", "--quiet", "--short", "HEAD")
    if current and _git(repository, "merge-base", "--is-ancestor", commit, "HEAD") is not None:
        return current
    return ""


def build_release(ref: str, *, quiet: bool = False) -> tuple[str, str, str]:
    """Build (or find) the release of ``ref`` here: (app, release id, branch)."""
    from shipyard.cli import release_command
    from shipyard.deploy import releases
    from shipyard.store import paths

    source = releases.resolve_source(Path("."), ref)
    root = paths.releases(paths.home())

    def show(line: str) -> None:
        if not quiet:
            click.echo(f"  {line}", err=True)

    try:
        manifest = releases.create_release(root, source, on_line=show)
    finally:
        release_command._record(source.project.app, root)
    branch = branch_of(source.repository, ref, source.commit)
    return manifest.app, manifest.id, branch


@click.command("deploy")
@click.argument("environment")
@click.option("--ref", help="The commit to build and deploy (default HEAD).")
@click.option("--release", "release", help="A release id (already built) instead of --ref.")
@click.option(
    "--strategy", help="recreate, rolling, blue-green or canary (default: shipyard.yaml)."
)
@click.option("--set", "config", multiple=True, help="KEY=VALUE: a config value for this deploy.")
@click.option(
    "--setting", "settings", multiple=True, help="KEY=VALUE: a deploy setting, this once."
)
@click.option("--dry-run", is_flag=True, help="Print the rollout steps; change nothing.")
@click.option("--wait", is_flag=True, help="Queue behind a deploy in progress.")
@click.option("--app", help="The app (default: the one in ./shipyard.yaml).")
def deploy(
    environment: str,
    ref: str | None,
    release: str | None,
    strategy: str | None,
    config: tuple[str, ...],
    settings: tuple[str, ...],
    dry_run: bool,
    wait: bool,
    app: str | None,
) -> None:
    """Roll a release out to an environment without dropping a request."""
    from shipyard.cli import client

    if ref is not None and release is not None:
        raise errors.UsageError("--ref and --release cannot be used together")
    body: dict[str, Any] = {
        "strategy": strategy,
        "config": pairs.key_values(config, "--set", "WORKERS=8"),
        "settings": pairs.key_values(settings, "--setting", "drain_timeout=10s"),
        "actor": actor(),
        "dry_run": dry_run,
        "wait": wait,
    }
    if release is None:
        body["app"], body["release"], body["branch"] = build_release(ref or "HEAD")
    else:
        body["app"], body["release"], body["branch"] = app, release, _branch_here()
    path = f"/api/v1/environments/{environment}/deploys"
    with client.connect() as server:
        try:
            answer = server.call("POST", path, body=body)
        except client.ApiError as error:
            if error.status != 404 or body["app"] is not None:
                raise
            from shipyard.cli import env_command  # a new environment: name the app

            local_app = env_command._local_app()
            if local_app is None:
                raise
            answer = server.call("POST", path, body={**body, "app": local_app})
        if dry_run:
            click.echo(f"{environment}: {answer['strategy']} rollout, {len(answer['plan'])} steps")
            for index, step in enumerate(answer["plan"], 1):
                click.echo(f"  {index}. {step}")
            return
        follow(server, answer["deploy"])


def _branch_here() -> str:
    return _git(Path("."), "symbolic-ref", "--quiet", "--short", "HEAD") or ""


def follow(server: Any, record: dict[str, Any], *, echo: Any = click.echo) -> dict[str, Any]:
    """Print the deploy's events until it ends, pauses or waits for approval."""
    deploy_id = record["id"]
    echo(
        f"deploy {deploy_id}: {record['kind']} of release {record['release_id']} to "
        f"{record['environment']} ({record['strategy']})"
    )
    seen = 0
    started = time.monotonic()
    while True:
        for event in server.call(
            "GET", f"/api/v1/deploys/{deploy_id}/events", params={"after": seen}
        ):
            seen = max(seen, int(event["id"]))
            elapsed = time.monotonic() - started
            echo(f"  {elapsed:5.1f}s  {event['summary']}")
        record = server.call("GET", f"/api/v1/deploys/{deploy_id}")
        status = record["status"]
        if status in FINISHED:
            break
        if status == "paused":
            echo(
                f"paused at {record['weight']}%: `shipyard promote {record['environment']}` "
                f"moves it on, `shipyard abort {record['environment']}` takes it back"
            )
            return record
        if status == "waiting-approval":
            echo(f"waiting for approval: `shipyard approve {deploy_id}` (or `shipyard reject`)")
            return record
        time.sleep(POLL)
    if status != "succeeded":
        raise DeployFailed(
            f"deploy {deploy_id} {status}: {record['reason']}",
            hint=f"release {record['serving_release_id'] or record['previous_release_id']} "
            f"still serves {record['environment']}; see `shipyard deploys {record['environment']}`",
        )
    where = record["environment"]
    echo(f"deploy {deploy_id} succeeded: release {record['release_id']} serves {where}")
    return record


@click.command("deploys")
@click.argument("environment")
@click.option("--limit", "-n", type=int, default=20, show_default=True)
def list_deploys(environment: str, limit: int) -> None:
    """An environment's deploy history: release, commit, strategy, who, when, outcome."""
    from shipyard.cli import client

    with client.connect() as server:
        found = server.call(
            "GET", f"/api/v1/environments/{environment}/deploys", params={"limit": limit}
        )
    if not found:
        click.echo(f"{environment}: no deploys yet")
        return
    click.echo(
        f"{'ID':>4} {'KIND':<8} {'RELEASE':<13} {'COMMIT':<8} {'STRATEGY':<10} {'WHO':<10} "
        f"{'STARTED':<19} {'TOOK':>6} {'OUTCOME':<11} REASON"
    )
    for item in found:
        began = item["started_at"] or item["created_at"]
        took = "-"
        if item["finished_at"] and item["started_at"]:
            took = f"{item['finished_at'] - item['started_at']:.1f}s"
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(began))
        reason = item["reason"].splitlines()[0] if item["reason"] else ""
        if item["approved_by"]:
            reason = (reason + "; " if reason else "") + f"approved by {item['approved_by']}"
        click.echo(
            f"{item['id']:>4} {item['kind']:<8} {item['release_id']:<13} {item['commit'][:7]:<8} "
            f"{item['strategy']:<10} {item['actor'][:10]:<10} {stamp:<19} {took:>6} "
            f"{item['status']:<11} {reason}"
        )


@click.command("rollback")
@click.argument("environment")
@click.option("--to", "to", help="The release to go back to (default: the previous one).")
def rollback(environment: str, to: str | None) -> None:
    """Go back to the previous release: instant while it is warm, else a fast redeploy."""
    from shipyard.cli import client

    with client.connect() as server:
        answer = server.call(
            "POST",
            f"/api/v1/environments/{environment}/rollback",
            body={"to": to, "actor": actor()},
        )
        follow(server, answer["deploy"])


@click.command("promote")
@click.argument("environment")
def promote(environment: str) -> None:
    """Move a paused canary on to its next step."""
    _button(environment, "promote")


@click.command("abort")
@click.argument("environment")
def abort(environment: str) -> None:
    """Stop the running deploy: all traffic goes back to the old release."""
    _button(environment, "abort")


def _button(environment: str, action: str) -> None:
    from shipyard.cli import client

    with client.connect() as server:
        record = server.call(
            "POST", f"/api/v1/environments/{environment}/{action}", body={"actor": actor()}
        )
        follow(server, record)


@click.command("approve")
@click.argument("deploy_id", type=int)
def approve(deploy_id: int) -> None:
    """Approve a deploy waiting for approval (recorded with who and when)."""
    _decide(deploy_id, "approve")


@click.command("reject")
@click.argument("deploy_id", type=int)
def reject(deploy_id: int) -> None:
    """Reject a deploy waiting for approval."""
    _decide(deploy_id, "reject")


def _decide(deploy_id: int, action: str) -> None:
    from shipyard.cli import client

    with client.connect() as server:
        record = server.call(
            "POST", f"/api/v1/deploys/{deploy_id}/{action}", body={"actor": actor()}
        )
        if action == "reject":
            click.echo(f"deploy {deploy_id} rejected by {actor()}")
            return
        click.echo(f"deploy {deploy_id} approved by {record['approved_by']}")
        follow(server, record)
