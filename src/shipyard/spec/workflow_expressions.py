"""Checking a workflow's ``${{ }}`` expressions while it loads. Pure: no I/O.

A broken expression is a broken workflow: it should fail ``shipyard validate``, not a job halfway
through a run. Every value that may hold an expression passes through ``check``; ``if:`` values
(bare expressions) through ``check_condition``. Both place the expression package's error at the
value's file:line:col. ``_check_expression`` is the single place that calls that package.

Key patterns are the rows of GitHub's context-availability table (``jobs.<job_id>.runs-on``,
``jobs.<job_id>.steps.with``), so the expression package can say which contexts each key allows.
"""

from __future__ import annotations

from shipyard import expressions
from shipyard.core import errors
from shipyard.spec import node_reader


def check(
    reader: node_reader.NodeReader,
    value: object,
    key_pattern: str,
    location: errors.SourceLocation,
    key_path: str,
) -> None:
    """Check a value that may hold ``${{ }}`` templates (only strings can)."""
    if not node_reader.is_expression(value):
        return
    assert isinstance(value, str)
    problem = _check_expression(value, key_pattern, location, key_path)
    if problem is not None:
        reader.errors.append(problem)


def check_condition(
    reader: node_reader.NodeReader,
    value: str,
    key_pattern: str,
    location: errors.SourceLocation,
    key_path: str,
) -> None:
    """Check an ``if:`` value: a bare expression, or a ``${{ }}`` template."""
    problem = _check_expression(value, key_pattern, location, key_path)
    if problem is not None:
        reader.errors.append(problem)


def _check_expression(
    value: str,
    key_pattern: str,
    source: errors.SourceLocation,
    key: str,
) -> errors.SpecError | None:
    """Parse ``value`` and check the contexts it uses are available at ``key_pattern``; the
    problem as a ``SpecError`` at the value's position, or None."""
    try:
        expressions.check_availability(value, key_pattern)
    except expressions.ExpressionError as problem:
        return errors.SpecError(
            problem.message,
            location=source,
            key_path=key,
            hint=problem.hint or "see docs/expressions.md for the expression syntax",
        )
    return None
