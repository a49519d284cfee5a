"""An environment's resolved configuration: the one function deploys, runs and the CLI call.

``resolve`` layers top-level ``config`` < ``environments.<env>.config`` < overrides (``--set``),
evaluates ``${{ secrets.NAME }}`` and ``${{ vars.NAME }}`` in each value, and checks declared
types. The secrets file is decrypted only when a value refers to a secret (or the caller asks for
the ``secrets`` context), so config without secrets needs no key. A value that refers to a
secret the environment does not have is refused before anything happens, listing every missing
name and where it is referred to. The result knows which keys hold secrets, so ``redacted`` and
``fingerprints`` never show a secret's value.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import field
from pathlib import Path
from typing import Any

from shipyard.core import errors
from shipyard.core.frozen import frozen
from shipyard.secrets import masking
from shipyard.spec import project as project_file
from shipyard.spec import project_config, project_values

REDACTED = "<secret>"
_SECRET_REFERENCE = re.compile(
    r"\bsecrets\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_-]*)|\[\s*'([^']*)'\s*\])", re.IGNORECASE
)


@frozen
class ResolvedConfig:
    """What an environment's processes get as environment variables, and what must stay hidden."""

    environment: str
    values: Mapping[str, str] = field(repr=False)
    """Never in a repr: a logged workload must not carry its secrets into a log."""
    secret_keys: frozenset[str] = frozenset()
    """Config keys whose value comes from a secret."""
    secret_values: tuple[str, ...] = field(default=(), repr=False)
    """Every secret value of the environment that was decrypted (for maskers)."""
    sources: Mapping[str, str] = field(default_factory=dict)
    """Key -> where its value came from: ``config``, ``environments.ENV.config`` or ``--set``."""
    warnings: tuple[str, ...] = ()
    """Secrets too short to be masked."""

    def redacted(self) -> dict[str, str]:
        return {k: REDACTED if k in self.secret_keys else v for k, v in self.values.items()}

    def masker(self) -> masking.Masker:
        masker = masking.Masker()
        for value in self.secret_values:
            masker.add(value)
        return masker

    def fingerprints(self, key: bytes) -> dict[str, str]:
        """HMAC-SHA256 of each secret key's value under ``key``: comparable, never reversible."""
        return {
            name: hmac.new(key, self.values[name].encode(), hashlib.sha256).hexdigest()
            for name in self.secret_keys
        }


def referenced_secrets(template: str) -> list[str]:
    """The secret names a config value refers to (``secrets.NAME`` or ``secrets['NAME']``)."""
    if "${{" not in template:
        return []
    return [match.group(1) or match.group(2) for match in _SECRET_REFERENCE.finditer(template)]


def resolve(
    project: project_file.Project,
    environment: str,
    *,
    overrides: Mapping[str, str] | None = None,
    repo_root: Path,
    keys: Sequence[Any] | None = None,
    home: Path | None = None,
) -> ResolvedConfig:
    """The environment's config with secrets and vars filled in and types checked.

    ``keys`` are age identities; when None they are loaded (from the environment variables or
    ``home``/keys) only if a value refers to a secret.
    """
    if environment not in project.environments:
        from shipyard.core import suggest

        raise errors.UsageError(
            f"unknown environment `{environment}`",
            hint=suggest.did_you_mean(environment, project.environments, noun="environment")
            if project.environments
            else "declare it under `environments:` in shipyard.yaml",
        )
    spec = project.config_spec
    templates, sources = _layers(project, environment, overrides or {})
    wanted = {name: referenced_secrets(text) for name, text in templates.items()}
    secret_keys = frozenset(name for name, names in wanted.items() if names)
    secrets: dict[str, Any] = {}
    secret_values: tuple[str, ...] = ()
    warnings: list[str] = []
    if secret_keys:
        secrets, secret_values, warnings = load_secrets(repo_root, environment, keys, home)
        _refuse_missing(project, environment, wanted, secrets, sources)
    contexts = {"secrets": secrets, "vars": spec.vars_for(environment)}
    values: dict[str, str] = {}
    problems: list[errors.SpecError] = []
    for name, template in templates.items():
        value = _evaluate(
            template,
            contexts,
            spec=spec,
            environment=environment,
            name=name,
            sources=sources,
            problems=problems,
        )
        if value is not None:
            values[name] = value
    _check_types(
        spec,
        environment,
        values=values,
        sources=sources,
        secret_keys=secret_keys,
        problems=problems,
    )
    found = errors.SpecErrors.collect(problems)
    if found is not None:
        raise found
    return ResolvedConfig(environment, values, secret_keys, secret_values, sources, tuple(warnings))


def load_secrets(
    repo_root: Path, environment: str, keys: Sequence[Any] | None, home: Path | None
) -> tuple[dict[str, Any], tuple[str, ...], list[str]]:
    """The environment's secrets (nested as in the file), every scalar as text, and warnings."""
    from shipyard.secrets import age_keys, secret_files

    if keys is None:
        if home is None:
            from shipyard.store import paths

            home = paths.home()
        keys = age_keys.load_identities(home)
    decrypted = secret_files.read(repo_root, environment, keys)
    if decrypted is None:
        return {}, (), []
    texts: list[str] = []
    warnings: list[str] = []
    _collect(decrypted.values, "", texts, warnings)
    return _as_context(decrypted.values), tuple(texts), warnings


def _collect(value: Any, name: str, texts: list[str], warnings: list[str]) -> None:
    from shipyard.secrets import sops_file

    if isinstance(value, dict):
        for key, item in value.items():
            _collect(item, f"{name}.{key}" if name else key, texts, warnings)
    elif isinstance(value, list):
        for item in value:
            _collect(item, name, texts, warnings)
    elif value is not None:
        text = sops_file.as_text(value)
        if text.strip():
            texts.append(text)
            if len(text.strip()) < masking.MIN_MASKED_LENGTH:
                warnings.append(
                    f"secret `{name}` is shorter than {masking.MIN_MASKED_LENGTH} characters "
                    "and is not masked in logs"
                )


def _as_context(value: Any) -> Any:
    from shipyard.secrets import sops_file

    if isinstance(value, dict):
        return {key: _as_context(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_context(item) for item in value]
    return sops_file.as_text(value) if value is not None else ""


def _layers(
    project: project_file.Project, environment: str, overrides: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, str]]:
    templates = dict(project.config)
    sources = dict.fromkeys(project.config, "config")
    own = project.environments[environment].config
    templates.update(own)
    sources.update(dict.fromkeys(own, f"environments.{environment}.config"))
    for name, value in overrides.items():
        if not project_values.VARIABLE_PATTERN.match(name):
            raise errors.UsageError(
                f"--set {name}={value}: invalid variable name `{name}`",
                hint="use letters, digits and underscores, not starting with a digit",
            )
        templates[name] = value
        sources[name] = "--set"
    return templates, sources


def _refuse_missing(
    project: project_file.Project,
    environment: str,
    wanted: Mapping[str, list[str]],
    secrets: Mapping[str, Any],
    sources: Mapping[str, str],
) -> None:
    missing: dict[str, list[str]] = {}
    for key, names in wanted.items():
        for name in names:
            if name not in secrets:
                missing.setdefault(name, []).append(_where(project, environment, key, sources))
    if not missing:
        return
    listed = ", ".join(sorted(missing))
    places = "; ".join(f"{name} at {', '.join(at)}" for name, at in sorted(missing.items()))
    count = len(missing)
    raise errors.UserError(
        f"environment `{environment}` refers to {count} missing secret"
        f"{'s' if count != 1 else ''}: {listed}",
        hint=f"referred to by {places}; set each with `shipyard secrets set {environment} NAME`",
    )


def _where(
    project: project_file.Project, environment: str, key: str, sources: Mapping[str, str]
) -> str:
    if sources.get(key) == "--set":
        return f"--set {key}"
    location, key_path = project.config_spec.where(environment, key)
    return f"{location} ({key_path})" if location is not None else key_path


def _evaluate(
    template: str,
    contexts: Mapping[str, Any],
    *,
    spec: project_config.ConfigSpec,
    environment: str,
    name: str,
    sources: Mapping[str, str],
    problems: list[errors.SpecError],
) -> str | None:
    if "${{" not in template:
        return template
    from shipyard import expressions

    try:
        return expressions.to_string(expressions.interpolate(template, contexts))
    except expressions.ExpressionError as error:
        location, key_path = _location(spec, environment, name, sources)
        problems.append(
            errors.SpecError(str(error), location=location, key_path=key_path, hint=None)
        )
        return None


def _check_types(
    spec: project_config.ConfigSpec,
    environment: str,
    *,
    values: Mapping[str, str],
    sources: Mapping[str, str],
    secret_keys: frozenset[str],
    problems: list[errors.SpecError],
) -> None:
    for name, declaration in spec.declarations.items():
        if name not in values:
            if declaration.required:
                problems.append(
                    errors.SpecError(
                        f"`{name}` has no value in environment `{environment}`",
                        location=spec.locations.get(f"config.{name}"),
                        key_path=f"config.{name}",
                        hint=f"set it under `environments.{environment}.config` or give it a "
                        "`default`",
                    )
                )
            continue
        problem = project_config.check(declaration, values[name])
        if problem is None:
            continue
        if name in secret_keys:  # the error must not show the secret
            problem = _hide(problem, values[name])
        location, key_path = _location(spec, environment, name, sources)
        problems.append(
            errors.SpecError(
                problem,
                location=location,
                key_path=key_path,
                hint=f"`{name}` is declared `{declaration.type}`",
            )
        )


def _hide(problem: str, value: str) -> str:
    return problem.replace(f"`{value}`", f"`{REDACTED}`") if value else problem


def _location(
    spec: project_config.ConfigSpec, environment: str, name: str, sources: Mapping[str, str]
) -> tuple[Any, str]:
    if sources.get(name) == "--set":
        return None, f"--set {name}"
    return spec.where(environment, name)
