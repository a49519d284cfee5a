"""``if:`` conditions: with or without ``${{ }}``, and the implicit ``success() &&``. Pure.

GitHub's rules: an empty condition means ``success()``; a condition that calls none of the status
functions (``success``, ``failure``, ``cancelled``, ``always``) runs only when ``success()`` is
true; the result is decided by truthiness. A condition that mixes text and ``${{ }}`` is a string
(GitHub rewrites it to ``format(...)``), so it is true whenever that string is not empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shipyard.expressions import errors, expression, functions, parser, scope, templates, values


def condition_expression(condition: str) -> expression.Expression | None:
    """The expression an ``if:`` stands for; None for an empty condition. Raises ExpressionError."""
    text = condition.strip()
    if not text:
        return None
    if templates.has_expression(text):
        template = templates.parse_template(text)
        single = template.single
        if single is not None:
            return single.expression
        return expression.parse(template.as_format_expression())
    return expression.parse(text)


def evaluate_condition(
    condition: str, contexts: Mapping[str, Any], *, hooks: scope.EvaluationHooks
) -> bool:
    """Whether an ``if:`` holds. Raises ExpressionError.

    ``hooks.status`` answers the status functions, including the implicit ``success()``.
    """
    try:
        compiled = condition_expression(condition)
    except parser.ParseFailure as failure:
        expression.check_references(failure.references, failure.expression, contexts)
        raise
    if compiled is None:
        return _success(hooks, condition)
    resolved = compiled.resolve(contexts)
    if not compiled.called_functions & functions.STATUS_FUNCTIONS and not _success(
        hooks, condition
    ):
        return False
    return values.truthy(compiled.evaluate_resolved(resolved, hooks))


def _success(hooks: scope.EvaluationHooks, condition: str) -> bool:
    if hooks.status is None:
        raise errors.ExpressionError(
            "success() is not available here: a condition without a status function means "
            "success() && (condition)",
            kind="evaluation",
            expression=condition,
            hint="pass EvaluationHooks(status=...) to evaluate an `if:`",
        )
    return bool(hooks.status("success"))
