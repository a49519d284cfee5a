"""Strings with ``${{ }}``: splitting, interpolating, and one expression keeping its type."""

from __future__ import annotations

import pytest

from shipyard import expressions

CONTEXTS = {
    "matrix": {"py": 3.1, "os": "linux", "include": [1, 2]},
    "needs": {"setup": {"outputs": {"matrix": '{"os": ["a", "b"]}'}}},
}


def test_has_expression() -> None:
    assert expressions.has_expression("v${{ matrix.py }}")
    assert not expressions.has_expression("${ matrix.py }")


def test_parse_template_cuts_text_and_expressions() -> None:
    template = expressions.parse_template("v${{ matrix.py }}-${{ matrix.os }}!")
    kinds = [type(part).__name__ for part in template.parts]
    assert kinds == [
        "TemplateText",
        "TemplateExpression",
        "TemplateText",
        "TemplateExpression",
        "TemplateText",
    ]
    assert [part.expression.source for part in template.expressions] == [
        " matrix.py ",
        " matrix.os ",
    ]
    assert [(part.start, part.end) for part in template.expressions] == [(1, 17), (18, 34)]
    assert template.referenced_contexts == {"matrix"}
    assert template.single is None


def test_a_closing_pair_inside_a_string_does_not_end_the_expression() -> None:
    assert expressions.interpolate("a ${{ '}}' }} b", {}) == "a }} b"
    assert expressions.interpolate("${{ 'it''s }}' }}", {}) == "it's }}"


def test_text_without_expressions_is_returned_as_it_is() -> None:
    assert expressions.interpolate("plain ${ text }", {}) == "plain ${ text }"


def test_one_expression_keeps_its_type() -> None:
    assert expressions.interpolate("${{ matrix.include }}", CONTEXTS) == [1, 2]
    assert expressions.interpolate("  ${{ matrix.py }}\n", CONTEXTS) == 3.1
    matrix = expressions.interpolate("${{ fromJSON(needs.setup.outputs.matrix) }}", CONTEXTS)
    assert matrix == {"os": ["a", "b"]}
    assert expressions.interpolate("${{ null }}", {}) is None


def test_anything_else_is_text_with_githubs_conversions() -> None:
    assert expressions.interpolate("v${{ matrix.py }}-x", CONTEXTS) == "v3.1-x"
    rendered = expressions.interpolate("${{ matrix.include }} ${{ null }}|${{ 1 == 1 }}", CONTEXTS)
    assert rendered == "Array |true"
    assert expressions.interpolate("${{ 1 }}${{ 2 }}", {}) == "12"


def test_an_unclosed_expression_is_an_error() -> None:
    with pytest.raises(expressions.ExpressionError) as caught:
        expressions.parse_template("a ${{ b")
    assert caught.value.kind == "parsing"
    assert caught.value.message == (
        "The expression is not closed. An unescaped ${{ sequence was found, but the closing }} "
        "sequence was not found. Located at position 3 within expression: a ${{ b"
    )


def test_an_empty_expression_is_an_error() -> None:
    with pytest.raises(expressions.ExpressionError) as caught:
        expressions.interpolate("a ${{ }} b", {})
    assert caught.value.message == (
        "An expression was expected. Located at position 3 within expression: a ${{ }} b"
    )


def test_errors_name_the_expression_not_the_template() -> None:
    with pytest.raises(expressions.ExpressionError) as caught:
        expressions.interpolate("x ${{ matrix.os == }}", CONTEXTS)
    assert caught.value.message == (
        "Unexpected end of expression: '=='. Located at position 12 within expression: "
        " matrix.os == "
    )


def test_an_unknown_context_is_reported_before_a_later_syntax_error() -> None:
    with pytest.raises(expressions.ExpressionError) as caught:
        expressions.interpolate("${{ nope.x == }}", CONTEXTS)
    assert caught.value.message.startswith("Unrecognized named-value: 'nope'.")
    assert caught.value.hint == "valid contexts: `matrix`, `needs`"


def test_templates_are_parsed_once() -> None:
    assert expressions.parse_template("a ${{ b }}") is expressions.parse_template("a ${{ b }}")
