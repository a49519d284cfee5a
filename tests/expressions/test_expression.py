"""The public API: parse (cached), evaluate, and ExpressionError with GitHub's words."""

from __future__ import annotations

import pytest

from shipyard import expressions
from shipyard.core import errors


def test_parse_is_cached_and_names_what_it_uses() -> None:
    parsed = expressions.parse("toJSON(GitHub.event) && Success() || matrix['os']")
    assert expressions.parse("toJSON(GitHub.event) && Success() || matrix['os']") is parsed
    assert parsed.referenced_contexts == {"github", "matrix"}
    assert parsed.called_functions == {"tojson", "success"}
    assert [(reference.name, reference.start) for reference in parsed.references] == [
        ("GitHub", 7),
        ("toJSON", 0),
        ("Success", 24),
        ("matrix", 37),
    ]


def test_a_parsed_expression_evaluates_against_many_contexts() -> None:
    parsed = expressions.parse("matrix.os == 'linux'")
    assert parsed.evaluate({"matrix": {"os": "Linux"}}) is True
    assert parsed.evaluate({"matrix": {"os": "mac"}}) is False


def test_the_empty_expression_is_null() -> None:
    assert expressions.evaluate("", {}) is None
    assert expressions.evaluate("   ", {}) is None


def test_contexts_match_case_insensitively_and_unused_ones_are_not_needed() -> None:
    assert expressions.evaluate("github.sha", {"GITHUB": {"sha": "abc"}}) == "abc"
    assert expressions.evaluate("1 == 1", {}) is True


def test_an_expression_error_carries_kind_expression_and_position() -> None:
    with pytest.raises(expressions.ExpressionError) as caught:
        expressions.evaluate("1 < )", {})
    error = caught.value
    assert isinstance(error, errors.ShipyardError)
    assert error.kind == "parsing"
    assert error.expression == "1 < )"
    assert error.position == 5
    assert error.message == "Unexpected symbol: ')'. Located at position 5 within expression: 1 < )"
    assert error.exit_code == 2


@pytest.mark.parametrize(
    ("expression", "kind", "message"),
    [
        (
            "1 = 2",
            "lexing",
            "Unexpected symbol: '='. Located at position 3 within expression: 1 = 2",
        ),
        (
            "'open",
            "lexing",
            "Unexpected symbol: ''open'. Located at position 1 within expression: 'open",
        ),
        (
            "a.",
            "parsing",
            "Unexpected end of expression: '.'. Located at position 2 within expression: a.",
        ),
        (
            "f(1 2)",
            "parsing",
            "Unexpected symbol: '2'. Located at position 5 within expression: f(1 2)",
        ),
        (
            "1 == 'x' 'y'",
            "parsing",
            "Unexpected symbol: ''y''. Located at position 10 within expression: 1 == 'x' 'y'",
        ),
        (
            "format('{0')",
            "evaluation",
            "The following format string is invalid: {0. "
            "Located at position 1 within expression: format('{0')",
        ),
    ],
)
def test_messages_in_githubs_words(expression: str, kind: str, message: str) -> None:
    with pytest.raises(expressions.ExpressionError) as caught:
        expressions.evaluate(expression, {"a": {}})
    assert (caught.value.kind, caught.value.message) == (kind, message)


def test_positions_count_utf16_code_units_like_github() -> None:
    with pytest.raises(expressions.ExpressionError) as caught:
        expressions.evaluate("'😀' == 1 )", {})
    assert caught.value.position == 11


def test_unknown_functions_and_contexts_list_the_valid_names() -> None:
    with pytest.raises(expressions.ExpressionError) as caught:
        expressions.evaluate("toJson(github) && startswit('a', 'b')", {"github": {}})
    assert caught.value.message.startswith(
        "Unrecognized function: 'startswit'. Located at position 19"
    )
    assert caught.value.hint is not None
    assert caught.value.hint.startswith("did you mean `startsWith`? valid functions: `always`,")
    with pytest.raises(expressions.ExpressionError) as caught:
        expressions.evaluate("githb.sha", {"github": {}, "env": {}})
    assert caught.value.hint == "did you mean `github`? valid contexts: `env`, `github`"


def test_arity_errors_say_how_many_arguments() -> None:
    with pytest.raises(expressions.ExpressionError) as caught:
        expressions.evaluate("contains('a')", {})
    assert caught.value.message.startswith("Too few parameters supplied: 'contains'.")
    assert caught.value.hint == "contains() takes 2 arguments"


def test_a_loader_can_place_an_error_in_its_file() -> None:
    with pytest.raises(expressions.ExpressionError) as caught:
        expressions.evaluate("1 <", {})
    where = errors.SourceLocation(".github/workflows/ci.yml", 14, 9)
    placed = caught.value.at(location=where, key_path="jobs.test.if")
    assert placed.render() == (
        ".github/workflows/ci.yml:14:9: jobs.test.if: Unexpected end of expression: '<'. "
        "Located at position 3 within expression: 1 <"
    )
    assert (placed.kind, placed.position, placed.expression) == ("parsing", 3, "1 <")
    assert caught.value.location is None
    direct = expressions.ExpressionError(
        "x", kind="evaluation", expression="e", location=where, hint="h"
    )
    assert direct.headline() == ".github/workflows/ci.yml:14:9: x"


def test_errors_survive_pickling_for_worker_processes() -> None:
    import pickle

    with pytest.raises(expressions.ExpressionError) as caught:
        expressions.evaluate("1 <", {})
    where = errors.SourceLocation("ci.yml", 3, 5)
    restored = pickle.loads(pickle.dumps(caught.value.at(location=where)))
    assert type(restored) is type(caught.value)
    assert (restored.kind, restored.position, restored.location) == ("parsing", 3, where)
    assert restored.render() == caught.value.at(location=where).render()
