"""``shipyard expr``: evaluate one ``${{ }}`` expression and print its value as JSON.

A debugging aid for people writing workflows: try an expression against contexts of your own
before a run depends on it. The argument is a bare expression (``github.ref == 'refs/heads/main'``)
or text with ``${{ }}`` in it, evaluated as a workflow value would be.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import click

from shipyard import expressions
from shipyard.core import errors
from shipyard.pipeline import hashfiles

STATUSES = ("success", "failure", "cancelled")


def _load_contexts(path: Path) -> dict[str, Any]:
    """The contexts in a JSON file: an object whose keys are context names."""
    try:
        loaded = expressions.from_json(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise errors.UsageError(f"--contexts {path}: cannot read the file: {error}") from error
    except ValueError as error:
        raise errors.UsageError(
            f"--contexts {path}: not valid JSON: {error}",
            hint='write an object of contexts, e.g. {"github": {"ref": "refs/heads/main"}}',
        ) from error
    if not isinstance(loaded, dict):
        raise errors.UsageError(
            f"--contexts {path}: expected a JSON object of contexts, found {type(loaded).__name__}",
            hint='write an object of contexts, e.g. {"github": {"ref": "refs/heads/main"}}',
        )
    return loaded


def _status_of(job_status: str, name: str) -> bool:
    """What ``success()``, ``failure()``, ``cancelled()`` and ``always()`` say for a job status."""
    return name in ("always", job_status)


@click.command("expr")
@click.argument("expression")
@click.option(
    "--contexts",
    "contexts_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A JSON file holding an object of contexts: github, env, matrix, needs...",
)
@click.option(
    "--workspace",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The directory hashFiles() searches.",
)
@click.option(
    "--status",
    type=click.Choice(STATUSES),
    default="success",
    show_default=True,
    help="The job status that success(), failure() and cancelled() see.",
)
def expr(expression: str, contexts_file: Path | None, workspace: Path, status: str) -> None:
    """Evaluate EXPRESSION and print the result as JSON.

    EXPRESSION is bare (matrix.os == 'linux') or text with ${{ }} in it.
    """
    contexts = _load_contexts(contexts_file) if contexts_file is not None else {}
    hooks = expressions.EvaluationHooks(
        status=functools.partial(_status_of, status),
        hash_files=functools.partial(hashfiles.hash_files, workspace),
    )
    if expressions.has_expression(expression):
        result = expressions.interpolate(expression, contexts, hooks=hooks)
    else:
        result = expressions.evaluate(expression, contexts, hooks=hooks)
    click.echo(expressions.to_json(result))
