"""The GitHub Actions ``${{ }}`` expression language: lexer, parser, evaluator, functions. Pure.

Nothing here reads a file, starts a process or opens a socket: ``hashFiles()`` and the status
functions reach the world only through the caller's :class:`EvaluationHooks`. Documented in
``docs/expressions.md``; the public names are re-exported here::

    from shipyard import expressions
    expressions.evaluate("github.ref == 'refs/heads/main'", {"github": {"ref": "refs/heads/main"}})
"""

from __future__ import annotations

from typing import Any

from shipyard.expressions import json_text, limits, values
from shipyard.expressions.availability import AVAILABILITY, check_availability
from shipyard.expressions.conditions import evaluate_condition
from shipyard.expressions.errors import ErrorKind, ExpressionError
from shipyard.expressions.expression import Expression, evaluate, parse
from shipyard.expressions.scope import EvaluationHooks
from shipyard.expressions.templates import (
    Template,
    TemplateExpression,
    TemplateText,
    has_expression,
    interpolate,
    parse_template,
)

__all__ = [
    "AVAILABILITY",
    "ErrorKind",
    "EvaluationHooks",
    "Expression",
    "ExpressionError",
    "Template",
    "TemplateExpression",
    "TemplateText",
    "check_availability",
    "evaluate",
    "evaluate_condition",
    "from_json",
    "has_expression",
    "interpolate",
    "limits",
    "parse",
    "parse_template",
    "to_json",
    "to_string",
    "truthy",
]


def to_string(value: Any) -> str:
    """GitHub's coercion of a value to a string (how results reach ``env``, ``with``, text)."""
    return values.to_string(value)


def to_json(value: Any) -> str:
    """GitHub's ``toJSON`` formatting of a value: two-space indent, ``"key": value``."""
    return json_text.to_json(value)


def from_json(text: str) -> Any:
    """The value of a JSON text, as ``fromJSON`` builds it. Raises ValueError for bad JSON."""
    return json_text.from_json(text)


def truthy(value: Any) -> bool:
    """GitHub's truthiness: null, false, 0, NaN and '' are false; everything else is true."""
    return values.truthy(value)
