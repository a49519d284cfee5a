"""Which contexts and special functions each workflow key may use (GitHub's table). Pure.

The table is GitHub's "Context availability" (docs.github.com, Contexts reference), the same
rules GitHub's workflow parser enforces: ``env`` in ``runs-on`` or ``matrix`` in a job's ``if`` is
an error before anything runs. :func:`check_availability` applies it to one value statically,
without evaluating anything.
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping
from typing import Final

from shipyard.expressions import (
    conditions,
    errors,
    expression,
    functions,
    parser,
    templates,
)

ALL_CONTEXTS: Final = frozenset(
    {
        "github",
        "env",
        "vars",
        "job",
        "jobs",
        "steps",
        "runner",
        "secrets",
        "strategy",
        "matrix",
        "needs",
        "inputs",
    }
)
"""Every context GitHub defines (lower case)."""


def _names(text: str) -> frozenset[str]:
    return frozenset(name.strip().lower() for name in text.split(",") if name.strip())


_JOB = _names("github, needs, strategy, matrix, vars, inputs")
_STEP = _names("github, needs, strategy, matrix, job, runner, env, vars, secrets, steps, inputs")
_CONTAINER_ENV = _names("github, needs, strategy, matrix, job, runner, env, vars, secrets, inputs")
_CREDENTIALS = _names("github, needs, strategy, matrix, env, vars, secrets, inputs")
_NONE: Final[frozenset[str]] = frozenset()
_HASH_FILES = frozenset({"hashfiles"})
_STATUS = functions.STATUS_FUNCTIONS

AVAILABILITY: Final[Mapping[str, tuple[frozenset[str], frozenset[str]]]] = types.MappingProxyType(
    {
        "run-name": (_names("github, inputs, vars"), _NONE),
        "concurrency": (_names("github, inputs, vars"), _NONE),
        "env": (_names("github, secrets, inputs, vars"), _NONE),
        "jobs.<job_id>.concurrency": (_JOB, _NONE),
        "jobs.<job_id>.container": (_JOB, _NONE),
        "jobs.<job_id>.container.credentials": (_CREDENTIALS, _NONE),
        "jobs.<job_id>.container.env.<env_id>": (_CONTAINER_ENV, _NONE),
        "jobs.<job_id>.container.image": (_JOB, _NONE),
        "jobs.<job_id>.continue-on-error": (_JOB, _NONE),
        "jobs.<job_id>.defaults.run": (_JOB | {"env"}, _NONE),
        "jobs.<job_id>.env": (_JOB | {"secrets"}, _NONE),
        "jobs.<job_id>.environment": (_JOB, _NONE),
        "jobs.<job_id>.environment.url": (
            _names("github, needs, strategy, matrix, job, runner, env, vars, steps, inputs"),
            _NONE,
        ),
        "jobs.<job_id>.if": (_names("github, needs, vars, inputs"), _STATUS),
        "jobs.<job_id>.name": (_JOB, _NONE),
        "jobs.<job_id>.outputs.<output_id>": (_STEP, _NONE),
        "jobs.<job_id>.runs-on": (_JOB, _NONE),
        "jobs.<job_id>.secrets.<secrets_id>": (_JOB | {"secrets"}, _NONE),
        "jobs.<job_id>.services": (_JOB, _NONE),
        "jobs.<job_id>.services.<service_id>.credentials": (_CREDENTIALS, _NONE),
        "jobs.<job_id>.services.<service_id>.env.<env_id>": (_CONTAINER_ENV, _NONE),
        "jobs.<job_id>.steps.continue-on-error": (_STEP, _HASH_FILES),
        "jobs.<job_id>.steps.env": (_STEP, _HASH_FILES),
        "jobs.<job_id>.steps.if": (_STEP - {"secrets"}, _STATUS | _HASH_FILES),
        "jobs.<job_id>.steps.name": (_STEP, _HASH_FILES),
        "jobs.<job_id>.steps.run": (_STEP, _HASH_FILES),
        "jobs.<job_id>.steps.timeout-minutes": (_STEP, _HASH_FILES),
        "jobs.<job_id>.steps.with": (_STEP, _HASH_FILES),
        "jobs.<job_id>.steps.working-directory": (_STEP, _HASH_FILES),
        "jobs.<job_id>.strategy": (_names("github, needs, vars, inputs"), _NONE),
        "jobs.<job_id>.timeout-minutes": (_JOB, _NONE),
        "jobs.<job_id>.with.<with_id>": (_JOB, _NONE),
        "on.workflow_call.inputs.<inputs_id>.default": (_names("github, inputs, vars"), _NONE),
        "on.workflow_call.outputs.<output_id>.value": (
            _names("github, jobs, vars, inputs"),
            _NONE,
        ),
    }
)
"""Workflow key pattern -> (contexts, special functions) allowed there, both lower case.

Functions not in :data:`functions.SPECIAL_FUNCTIONS` may be used everywhere."""

_INDEX = re.compile(r"\[[^\]]*\]")


def table_key(key: str) -> str:
    """The table entry for a key: a pattern (``jobs.<job_id>.runs-on``) or a concrete path
    (``jobs.test.steps[2].with.python-version``), matched to the most specific pattern that is
    a prefix of it. Raises ValueError for a key that takes no expressions."""
    if key in AVAILABILITY:
        return key
    segments = _INDEX.sub("", key).split(".")
    best: tuple[int, int, str] | None = None
    for pattern in AVAILABILITY:
        wanted = pattern.split(".")
        if len(wanted) > len(segments):
            continue
        if all(w.startswith("<") or w == s for w, s in zip(wanted, segments, strict=False)):
            literal = sum(not w.startswith("<") for w in wanted)
            candidate = (len(wanted), literal, pattern)
            if best is None or candidate[:2] > best[:2]:
                best = candidate
    if best is None:
        raise ValueError(f"no context availability is defined for the workflow key {key!r}")
    return best[2]


def _listing(names: frozenset[str]) -> str:
    return ", ".join(f"`{functions.spelling(name)}`" for name in sorted(names))


def _check(
    compiled: expression.Expression,
    key: str,
    contexts: frozenset[str],
    special: frozenset[str],
) -> None:
    for reference in compiled.references:
        name = reference.name.lower()
        if reference.function:
            if name in functions.SPECIAL_FUNCTIONS and name not in special:
                allowed = _listing(special) or "none"
                raise errors.at_token(
                    "Unrecognized function",
                    reference.name,
                    kind="parsing",
                    expression=compiled.source,
                    index=reference.start,
                    hint=f"{functions.spelling(name)}() is not available at `{key}`; "
                    f"special functions available there: {allowed}",
                )
        elif name not in contexts:
            if name in ALL_CONTEXTS:
                hint = f"`{name}` is not available at `{key}`; contexts available there: "
                hint += _listing(contexts)
            else:
                hint = parser.names_hint(reference.name, sorted(contexts), "context")
                hint += f" (at `{key}`)"
            raise errors.at_token(
                "Unrecognized named-value",
                reference.name,
                kind="parsing",
                expression=compiled.source,
                index=reference.start,
                hint=hint,
            )


def check_availability(value: str, key: str) -> None:
    """Check a value's expressions against the contexts and functions allowed at ``key``.

    ``value`` is a template (``${{ }}`` inside text) or, for an ``if`` key, a bare condition too.
    Raises ExpressionError for a syntax error, an unknown context, a context or special function
    not available at that key; ValueError for a key where GitHub takes no expressions.
    """
    pattern = table_key(key)
    contexts, special = AVAILABILITY[pattern]
    compiled: list[expression.Expression] = []
    if pattern.endswith(".if"):
        condition = conditions.condition_expression(value)
        if condition is not None:
            compiled.append(condition)
    elif templates.has_expression(value):
        compiled.extend(part.expression for part in templates.parse_template(value).expressions)
    for each in compiled:
        _check(each, pattern, contexts, special)
