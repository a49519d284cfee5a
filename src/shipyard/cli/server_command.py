"""``shipyard serve`` and ``shipyard server start|stop|status``.

``serve`` runs the server in the foreground (it becomes ``python -m shipyard.server``); ``server
start`` runs it in the background and returns once it answers; ``server stop`` stops it, which
stops every instance and the router first; ``server status`` says whether one runs, and where.
"""

from __future__ import annotations

import os
import sys
import time

import click

from shipyard.store import paths, serverinfo


@click.command("serve")
@click.option("--host", default=serverinfo.DEFAULT_HOST, show_default=True)
@click.option(
    "--port",
    type=int,
    default=None,
    help=f"Default: ${serverinfo.PORT_VARIABLE}, else {serverinfo.DEFAULT_PORT}.",
)
def serve(host: str, port: int | None) -> None:
    """Run the server in the foreground (Ctrl-C stops it and its instances)."""
    chosen = serverinfo.default_port() if port is None else port
    argv = [sys.executable, "-m", "shipyard.server", "--host", host, "--port", str(chosen)]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)


@click.group("server")
def server() -> None:
    """Start, stop or check the background server."""


@server.command("start")
@click.option("--port", type=int, default=None, help="Default: 8700 ($SHIPYARD_SERVER_PORT).")
def start(port: int | None) -> None:
    """Start the server in the background."""
    from shipyard.cli import client

    home = paths.home()
    running = serverinfo.read(home)
    if running is not None:
        click.echo(f"already running: {running.url} (pid {running.pid})")
        return
    info = client.start_background(home, port)
    click.echo(f"started: {info.url} (pid {info.pid})")


@server.command("stop")
def stop() -> None:
    """Stop the server, its instances and its router."""
    from shipyard.cli import client

    info = client.stop_server(paths.home())
    if info is None:
        click.echo("not running")
        return
    click.echo(f"stopped (pid {info.pid})")


@server.command("status")
def status() -> None:
    """Say whether the server runs (exit status 1 when it does not)."""
    info = serverinfo.read(paths.home())
    if info is None:
        click.echo("not running")
        sys.exit(1)
    uptime = time.time() - info.started_at
    click.echo(f"running: {info.url} (pid {info.pid}, up {uptime:.0f} s)")
