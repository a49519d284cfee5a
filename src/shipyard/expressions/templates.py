"""Strings with ``${{ }}`` inside: splitting them and interpolating them. Pure.

A value made of exactly one ``${{ expr }}`` (whitespace around it allowed) keeps the type of its
result, so ``matrix: ${{ fromJSON(needs.setup.outputs.matrix) }}`` stays an array. Any other value
is text: each expression's result is converted with :func:`values.to_string` and joined with the
literal parts, as GitHub does.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from shipyard.core.frozen import frozen
from shipyard.expressions import errors, expression, parser, scope, values

OPEN = "${{"
CLOSE = "}}"
_QUOTE_OR_CLOSE = re.compile(r"'|\}\}")


@frozen
class TemplateText:
    """Literal text of a template."""

    text: str
    start: int


@frozen
class TemplateExpression:
    """One ``${{ }}`` of a template: the parsed expression and where ``${{`` and ``}}`` are."""

    expression: expression.Expression
    start: int
    end: int


TemplatePart = TemplateText | TemplateExpression


@frozen
class Template:
    """A string cut into literal text and ``${{ }}`` expressions."""

    source: str
    parts: tuple[TemplatePart, ...]

    @property
    def expressions(self) -> tuple[TemplateExpression, ...]:
        """The ``${{ }}`` parts, in order."""
        return tuple(part for part in self.parts if isinstance(part, TemplateExpression))

    @property
    def single(self) -> TemplateExpression | None:
        """The expression, when the whole value is one ``${{ }}`` with only whitespace around."""
        found = self.expressions
        if len(found) != 1:
            return None
        others = (part for part in self.parts if isinstance(part, TemplateText))
        return found[0] if all(not part.text.strip() for part in others) else None

    @property
    def referenced_contexts(self) -> frozenset[str]:
        """Lower-case names of the contexts any part references."""
        return frozenset().union(
            *(part.expression.referenced_contexts for part in self.expressions)
        )

    @property
    def called_functions(self) -> frozenset[str]:
        """Lower-case names of the functions any part calls."""
        return frozenset().union(*(part.expression.called_functions for part in self.expressions))

    def render(
        self, contexts: Mapping[str, Any], hooks: scope.EvaluationHooks | None = None
    ) -> Any:
        """The value of the template: typed for a single expression, else a string."""
        single = self.single
        if single is not None:
            return single.expression.evaluate(contexts, hooks)
        if not self.expressions:
            return self.source
        pieces: list[str] = []
        for part in self.parts:
            if isinstance(part, TemplateText):
                pieces.append(part.text)
            else:
                pieces.append(values.to_string(part.expression.evaluate(contexts, hooks)))
        return "".join(pieces)

    def as_format_expression(self) -> str:
        """The template as one expression: ``format('text {0}', expr)``, as GitHub rewrites it."""
        pattern: list[str] = []
        arguments: list[str] = []
        for part in self.parts:
            if isinstance(part, TemplateText):
                pattern.append(part.text.replace("{", "{{").replace("}", "}}"))
            else:
                pattern.append(f"{{{len(arguments)}}}")
                arguments.append(part.expression.source)
        literal = "".join(pattern).replace("'", "''")
        return f"format('{literal}'{''.join(', ' + argument for argument in arguments)})"


def has_expression(value: str) -> bool:
    """Whether a string contains ``${{``."""
    return OPEN in value


@functools.lru_cache(maxsize=expression.PARSE_CACHE_SIZE)
def parse_template(value: str) -> Template:
    """Cut a string into literal text and parsed ``${{ }}`` expressions. Cached.

    Raises ExpressionError for a ``${{`` that is never closed, an empty ``${{ }}`` or an
    expression that does not parse. A ``}}`` inside a quoted string does not close the expression.
    """
    parts: list[TemplatePart] = []
    index = 0
    while True:
        start = value.find(OPEN, index)
        if start < 0:
            if index < len(value):
                parts.append(TemplateText(value[index:], index))
            return Template(value, tuple(parts))
        if start > index:
            parts.append(TemplateText(value[index:start], index))
        end = _closing(value, start)
        text = value[start + len(OPEN) : end]
        if not text.strip():
            raise _template_error("An expression was expected", value, start)
        parts.append(TemplateExpression(expression.parse(text), start, end + len(CLOSE)))
        index = end + len(CLOSE)


def _closing(value: str, start: int) -> int:
    """Where the ``}}`` closing the expression opened at ``start`` begins."""
    in_string = False
    position = start + len(OPEN)
    while True:
        found = _QUOTE_OR_CLOSE.search(value, position)
        if found is None:
            raise _template_error(
                "The expression is not closed. An unescaped ${{ sequence was found, but the "
                "closing }} sequence was not found",
                value,
                start,
                hint="close it with }}, or write a literal ${{ as ${{ '${{' }}",
            )
        if found.group() == "'":
            in_string = not in_string
            position = found.end()
        elif in_string:
            position = found.start() + 1
        else:
            return found.start()


def _template_error(
    detail: str, value: str, start: int, hint: str | None = None
) -> errors.ExpressionError:
    return errors.ExpressionError(
        errors.located(detail, value, start),
        kind="parsing",
        expression=value,
        position=errors.utf16_position(value, start),
        hint=hint,
    )


def interpolate(
    value: str, contexts: Mapping[str, Any], *, hooks: scope.EvaluationHooks | None = None
) -> Any:
    """A string with its ``${{ }}`` evaluated (see the module docstring for the typing rule)."""
    if OPEN not in value:
        return value
    try:
        template = parse_template(value)
    except parser.ParseFailure as failure:
        expression.check_references(failure.references, failure.expression, contexts)
        raise
    return template.render(contexts, hooks)
