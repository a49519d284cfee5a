"""An environment's ``secrets`` and ``vars`` for workflow runs, as GitHub environments give them.

``shipyard run --environment ENV`` starts every job with them, and a job that declares
``environment: NAME`` gets that environment's on top of the run's (an environment's secrets win
over the run's, as on GitHub). Secrets come from ``.shipyard/secrets/<env>.yaml`` (top-level
values; a group of nested values is not a GitHub secret and is left out), vars from
``shipyard.yaml``. Nothing is decrypted until a run asks for an environment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import field
from pathlib import Path

from shipyard.core import errors
from shipyard.core.frozen import frozen


@frozen
class EnvironmentContexts:
    secrets: dict[str, str] = field(default_factory=dict, repr=False)
    vars: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    known: bool = False
    """Whether the environment has a secrets file or is declared in shipyard.yaml."""


def load(root: Path, environment: str, *, home: Path) -> EnvironmentContexts:
    """The environment's secrets and vars; empty for an environment nobody declared."""
    from shipyard.secrets import age_keys, masking, secret_files

    variables, declared = _vars(root, environment)
    path = secret_files.file_path(root, environment)
    if not path.exists():
        return EnvironmentContexts({}, variables, (), declared)
    decrypted = secret_files.require(root, environment, age_keys.load_identities(home))
    secrets = decrypted.scalars()
    warnings = tuple(
        f"secret `{name}` of environment `{environment}` is shorter than "
        f"{masking.MIN_MASKED_LENGTH} characters and is not masked"
        for name, value in secrets.items()
        if value.strip() and len(value.strip()) < masking.MIN_MASKED_LENGTH
    )
    return EnvironmentContexts(secrets, variables, warnings, True)


def require(root: Path, environment: str, *, home: Path) -> EnvironmentContexts:
    """As ``load``, refusing an environment that has neither secrets nor a declaration."""
    found = load(root, environment, home=home)
    if not found.known:
        raise errors.UsageError(
            f"--environment {environment}: no such environment",
            hint=f"declare it in shipyard.yaml, or add a secret with "
            f"`shipyard secrets set {environment} NAME`",
        )
    return found


def loader(root: Path, *, home: Path) -> Callable[[str], EnvironmentContexts]:
    """What a run calls for each job's ``environment:`` (each environment loaded once)."""
    cache: dict[str, EnvironmentContexts] = {}

    def load_once(environment: str) -> EnvironmentContexts:
        if environment not in cache:
            cache[environment] = load(root, environment, home=home)
        return cache[environment]

    return load_once


def _vars(root: Path, environment: str) -> tuple[dict[str, str], bool]:
    from shipyard.spec import project, project_loader

    file = root / project.PROJECT_FILE
    if not file.exists():
        return {}, False
    loaded = project_loader.load_project_file(file, display_path=project.PROJECT_FILE)
    if environment not in loaded.environments:
        return dict(loaded.config_spec.vars), False
    return loaded.config_spec.vars_for(environment), True
