"""``shipyard validate [PATH]``: check workflow files and say what is wrong with them.

PATH is a workflow file, a repository (default: the current directory) whose ``.github/workflows``
and ``.shipyard/workflows`` are searched, or any other directory of workflow files. A
``shipyard.yaml`` in the directory (or given as PATH) is checked too. Each valid file
gets an ``ok`` line on standard output; every problem of every file goes to standard error at once.
Exit status: 0 when all are valid, 1 when any is invalid, 2 for a usage error (no such path, no
workflows found).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from shipyard.core import errors
from shipyard.spec import discovery, project, project_loader, workflow_loader


@click.command("validate")
@click.argument("path", required=False, default=".", type=click.Path(path_type=Path))
def validate(path: Path) -> None:
    """Check workflow files and shipyard.yaml (a file, a directory, or a repository)."""
    project_file = _project_file(path)
    files = _workflow_files(path, required=project_file is None)
    here = Path.cwd()
    problems: list[errors.SpecError] = []
    workflows = jobs = 0
    if project_file is not None:
        shown = discovery.display_path(project_file, here)
        try:
            loaded_project = project_loader.load_project_file(project_file, display_path=shown)
        except errors.SpecError as problem:
            problems.append(problem)
        else:
            services = _count(len(loaded_project.services), "service")
            environments = _count(len(loaded_project.environments), "environment")
            click.echo(f"ok: {shown} ({services}, {environments})")
    for file in files:
        shown = discovery.display_path(file, here)
        try:
            loaded = workflow_loader.load_workflow_file(file, display_path=shown)
        except errors.SpecError as problem:
            problems.append(problem)
            continue
        workflows += 1
        jobs += len(loaded.jobs)
        click.echo(f"ok: {shown} ({_count(len(loaded.jobs), 'job')})")
    collected = errors.SpecErrors.collect(problems)
    if collected is not None:
        click.echo(collected.render(), err=True)
        invalid = len(files) - workflows
        if files:
            click.echo(f"{invalid} of {_count(len(files), 'workflow')} invalid", err=True)
        sys.exit(1)
    if files:
        click.echo(f"ok: {_count(workflows, 'workflow')}, {_count(jobs, 'job')}")


def _project_file(path: Path) -> Path | None:
    if path.is_file():
        return path if path.name == project.PROJECT_FILE else None
    candidate = path / project.PROJECT_FILE
    return candidate if candidate.is_file() else None


def _workflow_files(path: Path, *, required: bool = True) -> list[Path]:
    if path.is_file():
        return [] if path.name == project.PROJECT_FILE else [path]
    if not path.is_dir():
        raise errors.UsageError(
            f"no such file or directory: {path}",
            hint="give a workflow file, or a repository containing .github/workflows",
        )
    if _is_repository(path):
        files = discovery.find_workflow_files(path)
    else:
        files = sorted(
            file
            for file in path.iterdir()
            if file.suffix in discovery.WORKFLOW_SUFFIXES
            and file.name != project.PROJECT_FILE
            and file.is_file()
        )
    if not files and required:
        searched = ", ".join(f"{path / folder}/" for folder in discovery.WORKFLOW_DIRECTORIES)
        raise errors.UsageError(
            f"no workflow files found in {path}",
            hint=f"workflows are *.yml or *.yaml files in {searched}",
        )
    return files


def _is_repository(path: Path) -> bool:
    """A repository is searched for workflows; any other directory is a folder of them."""
    return any((path / name).exists() for name in (".git", ".github", ".shipyard"))


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")
