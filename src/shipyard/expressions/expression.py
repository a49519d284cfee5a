"""A parsed, compiled expression, and the cached ``parse`` and ``evaluate`` entry points. Pure.

Parsing does not depend on the contexts, so one parse serves every evaluation of the same text:
:func:`parse` keeps the most recent expressions in an LRU cache. Which contexts exist is checked
when an expression is evaluated against them, with GitHub's parse-time message
(``Unrecognized named-value: 'nosuchcontext'``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from shipyard.expressions import compiler, errors, parser, scope, values

PARSE_CACHE_SIZE = 4096
"""Distinct expression texts whose parse is kept."""


class Expression:
    """A parsed expression, ready to evaluate any number of times against different contexts.

    ``referenced_contexts`` and ``called_functions`` are the lower-case names it uses;
    ``references`` lists them as written with their positions, in the order GitHub checks them.
    """

    __slots__ = (
        "_contexts",
        "_evaluator",
        "_names",
        "called_functions",
        "referenced_contexts",
        "references",
        "source",
    )

    def __init__(self, source: str, tree: parser.SyntaxTree) -> None:
        self.source = source
        self.references = tree.references
        self.referenced_contexts = frozenset(
            reference.name.lower() for reference in tree.references if not reference.function
        )
        self.called_functions = frozenset(
            reference.name.lower() for reference in tree.references if reference.function
        )
        first_uses: dict[str, parser.Reference] = {}
        for reference in tree.references:
            if not reference.function:
                first_uses.setdefault(reference.name.lower(), reference)
        self._contexts = tuple(first_uses.items())
        self._names = frozenset(first_uses)
        self._evaluator = compiler.compile_tree(tree.root, source)

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"

    def resolve(self, contexts: Mapping[str, Any]) -> Mapping[str, Any]:
        """The contexts this expression references, by lower-case name (maybe ``contexts``).

        Context names match case-insensitively. A referenced context missing from ``contexts`` is
        the parsing error GitHub gives for an unknown name, with the valid names as a hint.
        """
        if contexts.keys() >= self._names:  # the usual case: lower-case names, all there
            return contexts
        resolved: dict[str, Any] = {}
        for name, reference in self._contexts:
            value = contexts.get(name, values.MISSING)
            if value is values.MISSING:
                value = values.get_property(contexts, name)
                if value is values.MISSING:
                    raise unknown_context(reference, self.source, contexts)
            resolved[name] = value
        return resolved

    def evaluate_resolved(
        self, resolved: Mapping[str, Any], hooks: scope.EvaluationHooks | None = None
    ) -> Any:
        """Evaluate against contexts already checked by :meth:`resolve`."""
        return values.normalize(self._evaluator(scope.Scope(resolved, hooks)))

    def evaluate(
        self, contexts: Mapping[str, Any], hooks: scope.EvaluationHooks | None = None
    ) -> Any:
        """The value of the expression with these contexts. Raises ExpressionError."""
        return values.normalize(self._evaluator(scope.Scope(self.resolve(contexts), hooks)))


def unknown_context(
    reference: parser.Reference, expression: str, contexts: Mapping[str, Any]
) -> errors.ExpressionError:
    """GitHub's error for a name that is not one of the available contexts."""
    return errors.at_token(
        "Unrecognized named-value",
        reference.name,
        kind="parsing",
        expression=expression,
        index=reference.start,
        hint=parser.names_hint(reference.name, [str(name) for name in contexts], "context"),
    )


@functools.lru_cache(maxsize=PARSE_CACHE_SIZE)
def parse(expression: str) -> Expression:
    """The parsed expression (bare, without ``${{ }}``). Cached. Raises ExpressionError."""
    return Expression(expression, parser.parse(expression))


def evaluate(
    expression: str,
    contexts: Mapping[str, Any],
    *,
    hooks: scope.EvaluationHooks | None = None,
) -> Any:
    """Evaluate a bare expression (no ``${{ }}``) with the given contexts. Raises ExpressionError.

    Numbers come back as ``int`` when integral (else ``float``), arrays as lists, objects as
    dicts; contexts and the objects in them are returned as they are, not copied.
    """
    try:
        compiled = parse(expression)
    except parser.ParseFailure as failure:
        # GitHub's parser meets an unknown context before a later syntax error; so do we.
        check_references(failure.references, expression, contexts)
        raise
    return compiled.evaluate(contexts, hooks)


def check_references(
    references: tuple[parser.Reference, ...], expression: str, contexts: Mapping[str, Any]
) -> None:
    """Raise the unknown-context error for the first reference that names no context."""
    for reference in references:
        if reference.function:
            continue
        if values.get_property(contexts, reference.name) is values.MISSING:
            raise unknown_context(reference, expression, contexts)
