"""The built-in functions beyond the reference cases: hooks, laziness and their errors."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from shipyard import expressions
from shipyard.core import errors


def _error(
    expression: str,
    contexts: dict[str, object] | None = None,
    hooks: expressions.EvaluationHooks | None = None,
) -> expressions.ExpressionError:
    with pytest.raises(expressions.ExpressionError) as caught:
        expressions.evaluate(expression, contexts or {}, hooks=hooks)
    return caught.value


def test_hash_files_delegates_to_the_hook_with_strings() -> None:
    seen: list[Sequence[str]] = []

    def hash_files(patterns: Sequence[str]) -> str:
        seen.append(patterns)
        return "abc123"

    hooks = expressions.EvaluationHooks(hash_files=hash_files)
    result = expressions.evaluate("hashFiles('**/*.lock', 1, null)", {}, hooks=hooks)
    assert result == "abc123"
    assert seen == [["**/*.lock", "1", ""]]


def test_hash_files_failures_become_evaluation_errors() -> None:
    def failing(patterns: Sequence[str]) -> str:
        raise errors.UserError("Invalid pattern '../x'", hint="stay in the workspace")

    error = _error("hashFiles('../x')", hooks=expressions.EvaluationHooks(hash_files=failing))
    assert error.kind == "evaluation"
    assert error.message == (
        "hashFiles('../x') failed: Invalid pattern '../x'. Located at position 1 within "
        "expression: hashFiles('../x')"
    )
    assert error.hint == "stay in the workspace"
    assert isinstance(error.__cause__, errors.UserError)


def test_functions_without_their_hook_are_not_available() -> None:
    assert _error("hashFiles('x')").message.startswith("hashFiles() is not available here.")
    assert _error("1 && always()").message == (
        "always() is not available here. Located at position 6 within expression: 1 && always()"
    )


def test_status_functions_ask_the_hook() -> None:
    asked: list[str] = []

    def status(name: str) -> bool:
        asked.append(name)
        return name == "failure"

    hooks = expressions.EvaluationHooks(status=status)
    text = "format('{0} {1} {2} {3}', success(), failure(), cancelled(), always())"
    assert expressions.evaluate(text, {}, hooks=hooks) == "false true false false"
    assert asked == ["success", "failure", "cancelled", "always"]


def test_format_and_join_evaluate_only_the_arguments_they_use() -> None:
    assert expressions.evaluate("format('{0}', 1, fromJSON('not json'))", {}) == "1"
    assert expressions.evaluate("join(fromJSON('[1]'), fromJSON('not json'))", {}) == "1"
    assert expressions.evaluate("case(true, 'a', fromJSON('not json'))", {}) == "a"


def test_format_rejects_specifiers_and_large_indexes() -> None:
    assert _error("format('{0:x}', 1)").message.startswith(
        "The format specifiers 'x' are not valid for objects of type 'Number'."
    )
    assert _error("format('{256}', 1)").message.startswith(
        "The following format string is invalid: {256}."
    )
    assert expressions.evaluate("format('{000}', 'x')", {}) == "x"


def test_format_reuses_an_argument() -> None:
    calls: list[str] = []

    def hash_files(patterns: Sequence[str]) -> str:
        calls.append("called")
        return "h"

    hooks = expressions.EvaluationHooks(hash_files=hash_files)
    assert expressions.evaluate("format('{0}{0}', hashFiles('x'))", {}, hooks=hooks) == "hh"
    assert calls == ["called"]


def test_join_separators() -> None:
    contexts = {"items": ["a", "b"], "one": ["a"]}
    assert expressions.evaluate("join(items)", contexts) == "a,b"
    assert expressions.evaluate("join(items, fromJSON('[]'))", contexts) == "a,b"
    assert expressions.evaluate("join(one, 1)", contexts) == "a"


def test_from_json_errors_say_what_is_wrong() -> None:
    error = _error("fromJSON('{\"a\": }')")
    assert error.message.startswith("Error parsing fromJSON: Expecting value at line 1, column 7.")
    assert _error("fromJSON('')").message.startswith("Error parsing fromJSON: the input is empty.")


def test_to_json_of_a_value_containing_itself_is_an_error() -> None:
    looped: dict[str, object] = {}
    looped["self"] = looped
    assert _error("toJSON(x)", {"x": looped}).message == (
        "toJSON failed: the value contains itself, so it has no JSON text. Located at position 1 "
        "within expression: toJSON(x)"
    )


def test_contains_with_arrays_uses_loose_equality() -> None:
    contexts = {"labels": ["bug", "Help Wanted", 3]}
    assert expressions.evaluate("contains(labels, 'help wanted')", contexts) is True
    assert expressions.evaluate("contains(labels, '3')", contexts) is True
    assert expressions.evaluate("contains(labels, 'help')", contexts) is False
    assert expressions.evaluate("contains(fromJSON('{\"a\": 1}'), 'a')", {}) is False


def test_function_names_are_case_insensitive() -> None:
    assert expressions.evaluate("TOJSON(1)", {}) == "1"
    assert expressions.evaluate("StartsWith('Abc', 'a')", {}) is True
