"""Hostile input fails fast with a clear ExpressionError: no RecursionError, hang or blow-up."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from shipyard import expressions
from shipyard.expressions import limits

# Generous: each case takes milliseconds; the bound only catches a hang or a quadratic path.
SECONDS = 2.0


@contextmanager
def fast() -> Iterator[None]:
    start = time.perf_counter()
    yield
    assert time.perf_counter() - start < SECONDS


def _error(call: Callable[[], Any]) -> expressions.ExpressionError:
    with fast(), pytest.raises(expressions.ExpressionError) as caught:
        call()
    return caught.value


def test_a_megabyte_expression_is_refused_before_any_work() -> None:
    text = "github.sha == 'x' && " * 50_000 + "true"
    assert len(text) > 1_000_000
    error = _error(lambda: expressions.evaluate(text, {"github": {}}))
    assert error.kind == "lexing"
    assert error.message == f"Exceeded max expression length {limits.MAX_EXPRESSION_LENGTH}"
    assert len(error.expression) < 300  # the error does not carry the megabyte along


def test_ten_thousand_nested_parentheses() -> None:
    error = _error(lambda: expressions.evaluate("(" * 10_000 + "1" + ")" * 10_000, {}))
    assert error.kind == "parsing"
    assert error.message.startswith("Exceeded max expression depth 50. Located at position 51")


@pytest.mark.parametrize(
    "text",
    [
        "!" * 10_000 + "true",
        "a" + ".b" * 5_000,
        "a" + "[0]" * 5_000,
        "a" + ".*" * 5_000,
        "toJSON(" * 3_000 + "1" + ")" * 3_000,
        "[" * 10_000,
    ],
)
def test_deep_nesting_of_every_kind_stops_at_the_depth_limit(text: str) -> None:
    error = _error(lambda: expressions.evaluate(text, {"a": {}}))
    assert error.kind in ("parsing", "lexing")


def test_long_flat_chains_are_fine() -> None:
    with fast():
        assert expressions.evaluate("1" + " == 1" * 4_000, {}) is True
        assert expressions.evaluate(" || ".join(["false"] * 2_000), {}) is False
        assert expressions.evaluate(" && ".join(["true"] * 2_000), {}) is True


def test_a_hundred_thousand_element_from_json_is_quick() -> None:
    items = ",".join(["1"] * 100_000)
    with fast():
        result = expressions.evaluate("fromJSON(inputs.list)", {"inputs": {"list": f"[{items}]"}})
    assert len(result) == 100_000


def test_from_json_of_more_text_than_the_memory_limit_is_refused() -> None:
    text = json.dumps(list(range(100_000)))  # 590 kB: 1.2 MB counted as GitHub counts
    error = _error(
        lambda: expressions.evaluate("fromJSON(inputs.list)", {"inputs": {"list": text}})
    )
    assert error.kind == "evaluation"
    assert error.message.startswith("The maximum allowed memory size was exceeded")


def test_deeply_nested_json_is_an_error_not_a_crash() -> None:
    text = "[" * 100_000 + "]" * 100_000
    error = _error(lambda: expressions.evaluate("fromJSON(inputs.x)", {"inputs": {"x": text}}))
    assert error.message.startswith("Error parsing fromJSON: the JSON is nested too deeply.")


def test_format_with_huge_repetition_stops_at_the_memory_limit() -> None:
    inner = "format('" + "{0}" * 1_000 + "', 'xxxxxxxxxxxxxxxx')"
    outer = "format('" + "{0}" * 1_000 + "', " + inner + ")"
    error = _error(lambda: expressions.evaluate(outer, {}))
    assert error.kind == "evaluation"
    assert error.message.startswith(
        "The maximum allowed memory size was exceeded while evaluating the expression. "
        "Located at position 1 within expression: format("
    )


def test_join_of_a_huge_array_stops_at_the_memory_limit() -> None:
    contexts = {"x": list(range(200_000))}
    error = _error(lambda: expressions.evaluate("join(x, '--------')", contexts))
    assert error.message.startswith("The maximum allowed memory size was exceeded")


def test_a_format_string_of_escaped_braces_is_linear() -> None:
    with fast():
        result = expressions.evaluate("format(x)", {"x": "{{" * 100_000})
    assert result == "{" * 100_000


def test_to_json_of_a_value_containing_itself() -> None:
    looped: list[Any] = []
    looped.append(looped)
    error = _error(lambda: expressions.evaluate("toJSON(x)", {"x": looped}))
    assert error.kind == "evaluation"


def test_memory_is_released_between_independent_operations() -> None:
    # Each format result is about 400 kB (as GitHub counts); only one is held at a time.
    piece = "format('" + "{0}" * 200 + "', '" + "y" * 1_000 + "')"
    text = " && ".join([f"contains({piece}, 'y')"] * 4)
    with fast():
        assert expressions.evaluate(text, {}) is True


def test_a_long_string_that_is_almost_a_number_compares_quickly() -> None:
    contexts = {"inputs": {"x": "1" * 200_000 + "x", "y": "9" * 200_000}}
    with fast():
        assert expressions.evaluate("inputs.x == 1", contexts) is False
        assert expressions.evaluate("inputs.y > 1", contexts) is True
