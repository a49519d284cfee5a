"""``shipyard release create|show`` and ``shipyard releases``: build and list immutable releases.

``release create`` archives a commit of the repository in the current directory (``--ref``,
default ``HEAD``), runs its services' ``build`` commands with their output shown and kept, and
prints the release id on the last line of standard output. The same commit gives the same id and
is built once. A failed build is recorded and exits 1.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from shipyard.deploy import releases
from shipyard.store import paths


@click.group("release")
def release() -> None:
    """Create and inspect immutable releases."""


@release.command("create")
@click.option("--ref", default="HEAD", show_default=True, help="The commit to release.")
@click.option(
    "--repo",
    "repository",
    type=click.Path(path_type=Path, file_okay=False),
    default=".",
    help="The app's git repository (default: here).",
)
@click.option("--quiet", "-q", is_flag=True, help="Do not show the build's output.")
def create(ref: str, repository: Path, quiet: bool) -> None:
    """Archive and build a commit as a release; print its id."""
    source = releases.resolve_source(repository, ref)
    root = paths.releases(paths.home())

    def show(line: str) -> None:
        if not quiet:
            click.echo(f"  {line}", err=True)

    click.echo(f"release of {source.project.app} at {source.commit[:12]} ({source.ref})", err=True)
    try:
        manifest = releases.create_release(root, source, on_line=show)
    except releases.BuildFailed:
        _record(source.project.app, root)
        raise
    _record(manifest.app, root)
    click.echo(f"built in {manifest.build_seconds:.1f} s, {_size(manifest.size_bytes)}", err=True)
    click.echo(manifest.id)


@release.command("show")
@click.argument("release_id")
@click.option("--app", help="The app (default: the one in ./shipyard.yaml, or the only one).")
@click.option("--log", "show_log", is_flag=True, help="Print the build log.")
def show(release_id: str, app: str | None, show_log: bool) -> None:
    """Show a release's manifest (as JSON) or its build log."""
    root = paths.releases(paths.home())
    manifest = releases.find_release(root, _app(root, app), release_id)
    if show_log:
        log = releases.release_dir(root, manifest.app, manifest.id) / releases.BUILD_LOG
        click.echo(log.read_text(encoding="utf-8", errors="replace"), nl=False)
        return
    click.echo(manifest.to_json(), nl=False)


@click.command("releases")
@click.option("--app", help="Only this app's releases.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_releases(app: str | None, as_json: bool) -> None:
    """List releases, newest first."""
    root = paths.releases(paths.home())
    found = releases.list_releases(root, app)
    if as_json:
        click.echo(json.dumps([json.loads(m.to_json()) for m in found], indent=2))
        return
    if not found:
        click.echo("no releases yet: create one with `shipyard release create`")
        return
    click.echo(f"{'ID':<13} {'APP':<16} {'COMMIT':<13} {'STATUS':<7} {'BUILD':>7} {'SIZE':>9}  AGE")
    now = time.time()
    for manifest in found:
        click.echo(
            f"{manifest.id:<13} {manifest.app:<16} {manifest.commit[:12]:<13} "
            f"{manifest.status:<7} {manifest.build_seconds:>6.1f}s {_size(manifest.size_bytes):>9}"
            f"  {_age(now - manifest.created_at)}"
        )


def _record(app: str, root: Path) -> None:
    """Mirror the app's releases into the store, where the server reads them."""
    from shipyard.store import database

    with database.open_store() as store:
        releases.record(store, root, app)


def _app(root: Path, app: str | None) -> str:
    if app:
        return app
    from shipyard.spec import project, project_loader

    local = Path(project.PROJECT_FILE)
    if local.is_file():
        return project_loader.load_project_file(local).app
    apps = sorted(child.name for child in root.iterdir()) if root.is_dir() else []
    if len(apps) == 1:
        return apps[0]
    from shipyard.core import errors

    raise errors.UsageError(
        "which app?", hint="give `--app NAME`, or run this where the app's shipyard.yaml is"
    )


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def _age(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 86400:
        return f"{seconds / 3600:.0f}h"
    return f"{seconds / 86400:.0f}d"
