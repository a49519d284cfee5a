"""Finding and loading a repository's workflow files.

Workflows live in ``.github/workflows/`` (where GitHub reads them) and ``.shipyard/workflows/``
(workflows only Shipyard runs), as ``*.yml`` or ``*.yaml`` files directly in those directories.
Loading several files reports the problems of all of them at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.core import errors

if TYPE_CHECKING:
    from shipyard.spec import workflow

WORKFLOW_DIRECTORIES = (".github/workflows", ".shipyard/workflows")
WORKFLOW_SUFFIXES = (".yml", ".yaml")


def find_workflow_files(root: Path) -> list[Path]:
    """The workflow files of the repository at ``root``, sorted by path."""
    found: list[Path] = []
    for directory in WORKFLOW_DIRECTORIES:
        folder = root / directory
        if not folder.is_dir():
            continue
        found.extend(
            path for path in folder.iterdir() if path.suffix in WORKFLOW_SUFFIXES and path.is_file()
        )
    return sorted(found)


def display_path(file: Path, root: Path) -> str:
    """How a file is named in messages: relative to ``root`` when inside it, with ``/``."""
    try:
        return file.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(file)


def load_workflows(root: Path, paths: Sequence[Path] | None = None) -> list[workflow.Workflow]:
    """Load ``paths`` (default: every workflow file under ``root``), in that order.

    Raises one ``errors.SpecErrors`` with every problem of every file.
    """
    from shipyard.spec import workflow_loader  # the loader and the expression language are heavy

    files = find_workflow_files(root) if paths is None else list(paths)
    loaded = []
    problems: list[errors.SpecError] = []
    for file in files:
        try:
            loaded.append(
                workflow_loader.load_workflow_file(file, display_path=display_path(file, root))
            )
        except errors.SpecError as problem:
            problems.append(problem)
    collected = errors.SpecErrors.collect(problems)
    if collected is not None:
        raise collected
    return loaded
