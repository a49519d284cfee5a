"""``shipyard up|down|ps|logs``: environments on the server (started when not running).

``up ENV`` runs a release (default: the newest built one of the app in ./shipyard.yaml) in an
environment and returns once every instance is ready; ``down ENV`` stops them; ``ps`` shows
instances; ``logs ENV [SERVICE] [-f]`` prints (and follows) their logs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from shipyard.core import errors


def _local_app() -> str | None:
    """The app of ./shipyard.yaml, when there is one."""
    from shipyard.spec import project, project_loader

    local = Path(project.PROJECT_FILE)
    if not local.is_file():
        return None
    return project_loader.load_project_file(local).app


def _replicas(values: tuple[str, ...]) -> dict[str, int]:
    found = {}
    for value in values:
        service, _, count = value.partition("=")
        if not service or not count.isdigit():
            raise errors.UsageError(
                f"--replicas {value}: expected SERVICE=COUNT", hint="e.g. `--replicas web=3`"
            )
        found[service] = int(count)
    return found


@click.command("up")
@click.argument("environment")
@click.option("--release", "release", help="A release id (default: the newest built one).")
@click.option("--app", help="The app (default: the one in ./shipyard.yaml).")
@click.option("--replicas", multiple=True, help="SERVICE=COUNT, overriding shipyard.yaml.")
def up(environment: str, release: str | None, app: str | None, replicas: tuple[str, ...]) -> None:
    """Run a release in an environment; wait until it is ready."""
    from shipyard.cli import client

    body = {"app": app or _local_app(), "release": release, "replicas": _replicas(replicas)}
    with client.connect() as server:
        found = server.call("POST", f"/api/v1/environments/{environment}/up", body=body)
    port = f" on http://127.0.0.1:{found['port']}/" if found.get("port") else ""
    click.echo(f"{environment}: release {found['release_id']} of {found['app']} is up{port}")
    _table(found["instances"])


@click.command("down")
@click.argument("environment")
def down(environment: str) -> None:
    """Stop every instance of an environment."""
    from shipyard.cli import client

    with client.connect() as server:
        found = server.call("POST", f"/api/v1/environments/{environment}/down")
    click.echo(f"{environment}: down (release {found['release_id']} kept for the next `up`)")


@click.command("ps")
@click.argument("environment", required=False)
def ps(environment: str | None) -> None:
    """Show instances: release, state, restarts, uptime, port."""
    from shipyard.cli import client

    params = {"environment": environment} if environment else {}
    with client.connect() as server:
        found = server.call("GET", "/api/v1/instances", params=params)
    if not found:
        click.echo("no instances running")
        return
    _table(found)


@click.command("logs")
@click.argument("environment")
@click.argument("service", required=False)
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines (across restarts).")
@click.option("--tail", "-n", type=int, default=100, show_default=True, help="Lines per instance.")
def logs(environment: str, service: str | None, follow: bool, tail: int) -> None:
    """Print an environment's instance logs."""
    from shipyard.cli import client

    params: dict[str, Any] = {"tail": tail, "follow": follow}
    if service:
        params["service"] = service
    with client.connect() as server:
        for line in server.lines(f"/api/v1/environments/{environment}/logs", params=params):
            click.echo(line)


def _table(instances: list[dict[str, Any]]) -> None:
    click.echo(
        f"{'ENVIRONMENT':<12} {'INSTANCE':<12} {'RELEASE':<13} {'STATE':<11} "
        f"{'RESTARTS':>8} {'UPTIME':>7} {'PORT':>6} {'PID':>8}"
    )
    for item in instances:
        uptime = item.get("uptime_seconds")
        shown = "-" if uptime is None else _duration(float(uptime))
        click.echo(
            f"{item['environment']:<12} {item['name']:<12} {item['release_id']:<13} "
            f"{item['state']:<11} {item['restarts']:>8} {shown:>7} {item['port']:>6} "
            f"{item['pid'] or '-':>8}"
        )


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"
