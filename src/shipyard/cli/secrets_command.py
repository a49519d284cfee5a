"""``shipyard secrets``: keys, and each environment's encrypted secrets file.

A value is read from standard input (or a prompt that does not echo on a terminal), never from
the command line unless ``--value`` is given: arguments end up in shell history and ``ps``. ``get``
prints one value; ``list`` prints names only. ``edit`` opens the decrypted file in ``$EDITOR``
from a private temporary file (mode 0600, in a private directory) that is removed afterwards.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from shipyard.core import errors, files

if TYPE_CHECKING:
    from shipyard.secrets import age_keys


def _home() -> Path:
    from shipyard.store import paths

    return paths.home()


def _root(directory: str) -> Path:
    start = Path(directory).resolve()
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists() or (candidate / "shipyard.yaml").exists():
            return candidate
    return start


def _identities() -> list[age_keys.Identity]:
    from shipyard.secrets import age_keys

    return age_keys.load_identities(_home())


directory_option = click.option(
    "-C", "--directory", default=".", help="The repository (default: here)."
)


@click.group("secrets")
def secrets() -> None:
    """Manage age keys and encrypted per-environment secrets."""


@secrets.command("keygen")
@click.option("--name", default="default", help="The key file's name in $SHIPYARD_HOME/keys.")
def keygen(name: str) -> None:
    """Create an age key in $SHIPYARD_HOME/keys (mode 0600) and print its public key."""
    from shipyard.secrets import age_keys

    path, public = age_keys.keygen(_home(), name)
    click.echo(f"created {path}", err=True)
    click.echo(public)


@secrets.command("set")
@click.argument("environment")
@click.argument("name")
@click.option("--value", "given", help="The value itself (visible in shell history and ps).")
@directory_option
def set_(environment: str, name: str, given: str | None, directory: str) -> None:
    """Set secret NAME of ENVIRONMENT from standard input, a hidden prompt or --value."""
    from shipyard.secrets import masking, secret_files

    value = given if given is not None else _read_value(name)
    if len(value) < masking.MIN_MASKED_LENGTH:
        click.echo(
            f"warning: {name} is shorter than {masking.MIN_MASKED_LENGTH} characters and will "
            "not be masked in logs",
            err=True,
        )
    secret_files.set_value(_root(directory), environment, name, value, _identities())
    click.echo(f"set {name} in {secret_files.relative_path(environment)}", err=True)


def _read_value(name: str) -> str:
    if sys.stdin.isatty():
        value = click.prompt(f"{name}", hide_input=True, confirmation_prompt=False, err=True)
        return str(value)
    value = sys.stdin.read()
    return value[:-1] if value.endswith("\n") and value.count("\n") == 1 else value


@secrets.command("get")
@click.argument("environment")
@click.argument("name")
@directory_option
def get(environment: str, name: str, directory: str) -> None:
    """Print the value of secret NAME of ENVIRONMENT."""
    from shipyard.secrets import secret_files, sops_file

    found = secret_files.require(_root(directory), environment, _identities())
    value: object = found.values
    for part in secret_files.split_name(name):
        if not isinstance(value, dict) or part not in value:
            raise errors.UsageError(
                f"environment `{environment}` has no secret `{name}`",
                hint=f"list them with `shipyard secrets list {environment}`",
            )
        value = value[part]
    if isinstance(value, str | int | float | bool):
        click.echo(sops_file.as_text(value))
        return
    import json

    click.echo(json.dumps(value, indent=2))


@secrets.command("list")
@click.argument("environment")
@directory_option
def list_(environment: str, directory: str) -> None:
    """List the names of ENVIRONMENT's secrets (never their values)."""
    from shipyard.secrets import secret_files

    found = secret_files.require(_root(directory), environment, _identities())
    for name in _names(found.values, ""):
        click.echo(name)


def _names(values: dict[str, Any], prefix: str) -> list[str]:
    names = []
    for key, value in values.items():
        if isinstance(value, dict):
            names.extend(_names(value, f"{prefix}{key}."))
        else:
            names.append(f"{prefix}{key}")
    return names


@secrets.command("rm")
@click.argument("environment")
@click.argument("name")
@directory_option
def rm(environment: str, name: str, directory: str) -> None:
    """Remove secret NAME from ENVIRONMENT."""
    from shipyard.secrets import secret_files

    secret_files.remove(_root(directory), environment, name, _identities())
    click.echo(f"removed {name} from {secret_files.relative_path(environment)}", err=True)


@secrets.command("rotate")
@click.argument("environment")
@directory_option
def rotate(environment: str, directory: str) -> None:
    """Re-encrypt ENVIRONMENT's secrets with a new data key."""
    from shipyard.secrets import secret_files

    secret_files.rotate(_root(directory), environment, _identities())
    click.echo(f"rotated the data key of {secret_files.relative_path(environment)}", err=True)


@secrets.command("edit")
@click.argument("environment")
@directory_option
def edit(environment: str, directory: str) -> None:
    """Edit ENVIRONMENT's secrets in $EDITOR; the file is re-encrypted when you save."""
    from shipyard.secrets import secret_files, sops_writer

    root = _root(directory)
    document, recipients = secret_files.open_document(root, environment, _identities())
    relative = secret_files.relative_path(environment)
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.TemporaryDirectory(prefix="shipyard-secrets-") as private:
        os.chmod(private, 0o700)
        path = Path(private) / f"{environment}.yaml"
        before = sops_writer.plain_text(document)
        files.create_private(path, before)
        while True:
            status = subprocess.call([*shlex.split(editor), str(path)])
            if status != 0:
                raise errors.UsageError(
                    f"the editor `{editor}` exited with status {status}; nothing was changed"
                )
            after = path.read_text(encoding="utf-8")
            if after == before:
                click.echo("no changes", err=True)
                return
            try:
                document.tree = sops_writer.load_tree(after, path=relative)
            except errors.SpecError as error:
                if not sys.stdin.isatty():
                    raise
                click.echo(f"error: {error.render()}", err=True)
                if not click.confirm("Edit again?", default=True, err=True):
                    raise errors.UsageError("nothing was changed") from None
                continue
            break
    secret_files.save(root, environment, document, recipients)
    click.echo(f"saved {relative}", err=True)


@secrets.group("recipients")
def recipients() -> None:
    """Add or remove who can decrypt an environment's secrets."""


@recipients.command("add")
@click.argument("environment")
@click.argument("key")
@directory_option
def recipients_add(environment: str, key: str, directory: str) -> None:
    """Let the holder of age public KEY decrypt ENVIRONMENT's secrets (re-encrypts)."""
    from shipyard.secrets import secret_files

    wanted = secret_files.change_recipients(_root(directory), environment, _identities(), add=key)
    click.echo("\n".join(wanted))


@recipients.command("rm")
@click.argument("environment")
@click.argument("key")
@directory_option
def recipients_rm(environment: str, key: str, directory: str) -> None:
    """Stop KEY from decrypting ENVIRONMENT's secrets (re-encrypts with a new data key)."""
    from shipyard.secrets import secret_files

    wanted = secret_files.change_recipients(
        _root(directory), environment, _identities(), remove_key=key
    )
    click.echo("\n".join(wanted))
