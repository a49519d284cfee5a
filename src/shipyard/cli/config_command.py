"""``shipyard config show ENV`` and ``shipyard config diff ENV_A ENV_B``.

``show`` prints the config an environment's processes get, one ``KEY=VALUE`` per line with where
the value came from; a value that comes from a secret is printed as ``<secret>``. ``diff`` lists
the keys whose values differ; for secrets it says only whether they differ, decided by comparing
HMACs under a key drawn for this one comparison, so not even a hash of a secret is printed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from shipyard.cli import pairs
from shipyard.core import errors

if TYPE_CHECKING:
    from shipyard.spec import project


def _load(directory: str) -> tuple[Path, project.Project]:
    from shipyard.spec import project, project_loader

    start = Path(directory).resolve()
    for candidate in (start, *start.parents):
        if (candidate / project.PROJECT_FILE).exists():
            return candidate, project_loader.load_project_file(
                candidate / project.PROJECT_FILE, display_path=project.PROJECT_FILE
            )
    raise errors.UsageError(
        f"no {project.PROJECT_FILE} in {start} or above",
        hint="run this where your shipyard.yaml is, or pass -C DIRECTORY",
    )


@click.group("config")
def config() -> None:
    """Show and compare environments' configuration."""


@config.command("show")
@click.argument("environment")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a key.")
@click.option("-C", "--directory", default=".", help="The repository (default: here).")
def show(environment: str, overrides: tuple[str, ...], directory: str) -> None:
    """Print ENVIRONMENT's resolved config (secret values redacted)."""
    from shipyard.secrets import config as resolver

    root, project = _load(directory)
    values = pairs.key_values(overrides, "--set", "WORKERS=8")
    resolved = resolver.resolve(project, environment, overrides=values, repo_root=root)
    for warning in resolved.warnings:
        click.echo(f"warning: {warning}", err=True)
    shown = resolved.redacted()
    width = max((len(f"{k}={v}") for k, v in shown.items()), default=0)
    for name, value in shown.items():
        click.echo(f"{f'{name}={value}':<{width}}  # {resolved.sources[name]}")


@config.command("diff")
@click.argument("first")
@click.argument("second")
@click.option("-C", "--directory", default=".", help="The repository (default: here).")
def diff(first: str, second: str, directory: str) -> None:
    """List the keys whose values differ between two environments."""
    from shipyard.secrets import config as resolver

    root, project = _load(directory)
    a = resolver.resolve(project, first, repo_root=root)
    b = resolver.resolve(project, second, repo_root=root)
    nonce = os.urandom(32)
    prints_a, prints_b = a.fingerprints(nonce), b.fingerprints(nonce)
    lines = []
    for name in list(dict.fromkeys([*a.values, *b.values])):
        if name not in b.values:
            lines.append(f"- {name}: only in {first}")
        elif name not in a.values:
            lines.append(f"+ {name}: only in {second}")
        elif name in a.secret_keys or name in b.secret_keys:
            if prints_a.get(name) != prints_b.get(name):
                lines.append(f"~ {name}: differs (secret)")
        elif a.values[name] != b.values[name]:
            lines.append(f"~ {name}: {a.values[name]} -> {b.values[name]}")
    if not lines:
        click.echo(f"{first} and {second} have the same config")
    for line in lines:
        click.echo(line)
