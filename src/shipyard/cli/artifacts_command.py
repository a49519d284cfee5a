"""``shipyard artifacts RUN [NAME] [-o DIR]``: list a run's artifacts, or extract one."""

from __future__ import annotations

from pathlib import Path

import click

from shipyard.core import errors, suggest


def _run_dir(run: str) -> Path:
    from shipyard.pipeline.run import options

    runs = options.default_home() / "runs"
    existing = sorted(p.name for p in runs.iterdir()) if runs.is_dir() else []
    if run == "latest":
        if not existing:
            raise errors.UsageError("no runs yet", hint="run a workflow with `shipyard run`")
        return runs / existing[-1]
    if run not in existing:
        raise errors.UsageError(
            f"no run `{run}` in {runs}",
            hint=suggest.did_you_mean(run, existing[-12:], noun="run")
            if existing
            else "run a workflow with `shipyard run`",
        )
    return runs / run


@click.command()
@click.argument("run")
@click.argument("name", required=False)
@click.option("-o", "--output", default=".", help="Where to extract NAME (default: here).")
def artifacts(run: str, name: str | None, output: str) -> None:
    """List the artifacts of RUN (a run id, or `latest`), or extract artifact NAME."""
    from shipyard.pipeline import artifacts as artifact_files
    from shipyard.pipeline.run import options

    run_dir = _run_dir(run)
    store = artifact_files.ArtifactStore(run_dir / "artifacts", options.default_home() / "cache")
    found = store.list()
    if name is None:
        if not found:
            click.echo(f"run {run_dir.name} has no artifacts")
        for item in found:
            click.echo(
                f"{item.id:>3}  {item.name}  {item.size} bytes, {len(item.files)} files  "
                f"sha256:{item.digest}"
            )
        return
    if name not in {item.name for item in found}:
        raise errors.UsageError(
            f"run {run_dir.name} has no artifact `{name}`",
            hint=suggest.did_you_mean(name, [item.name for item in found], noun="artifact"),
        )
    try:
        restored = store.restore(name, Path(output))
    except artifact_files.ArtifactError as error:
        raise errors.UsageError(error.message, hint="the cache may have evicted it") from None
    click.echo(f"extracted {name}: {len(restored.files)} files into {output}")
