"""Properties that hold for any input (hypothesis)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shipyard import expressions
from shipyard.expressions import expression as expression_module

SETTINGS = settings(max_examples=200, deadline=2_000)

CONTEXTS: dict[str, Any] = {
    "github": {"event_name": "push", "ref": "refs/tags/v1", "event": {"commits": [{"id": 1}]}},
    "matrix": {"os": "linux", "versions": [3.11, 3.12]},
    "env": {"EMPTY": "", "N": "0x10"},
}


def _status(name: str) -> bool:
    return name in ("success", "always")


def _hash(patterns: Sequence[str]) -> str:
    return f"hash-of-{len(patterns)}"


HOOKS = expressions.EvaluationHooks(status=_status, hash_files=_hash)

# Pieces of the language, so that many generated texts are valid (or nearly valid) expressions.
VOCABULARY = [
    "github", "matrix", "env", "nope", ".", "event_name", "os", "versions", "commits", "*",
    "[", "]", "(", ")", ",", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "!", "'push'",
    "'it''s'", "'{0}-{1}'", "'[1, 2]'", "'{\"a\": 1}'", "'}}'", "1", "-2.5", "0x1f", ".5",
    "1e3", "null", "true", "false", "NaN", "Infinity", "contains", "startsWith", "endsWith",
    "format", "join", "toJSON", "fromJSON", "case", "success", "always", "hashFiles", "=",
    "&", "@", "${{", "}}", "'", "\n",
]  # fmt: skip

near_expressions = st.lists(
    st.tuples(st.sampled_from(VOCABULARY), st.sampled_from(["", "", " "])), max_size=30
).map(lambda pieces: "".join(token + gap for token, gap in pieces))

random_text = st.text(
    alphabet=st.sampled_from("abcxyz019 .,*()[]!=<>&|'{}$-+_\t\n😀é"), max_size=80
) | st.text(max_size=80)


def _outcome(text: str, contexts: dict[str, Any]) -> tuple[str, Any]:
    try:
        return "value", expressions.evaluate(text, contexts, hooks=HOOKS)
    except expressions.ExpressionError as error:
        assert error.kind in ("lexing", "parsing", "evaluation")
        assert error.message
        return "error", (error.kind, error.message)


@SETTINGS
@given(random_text | near_expressions)
def test_only_expression_errors_escape(text: str) -> None:
    _outcome(text, CONTEXTS)
    try:
        expressions.interpolate(text, CONTEXTS, hooks=HOOKS)
        expressions.evaluate_condition(text, CONTEXTS, hooks=HOOKS)
    except expressions.ExpressionError:
        pass


def _same(first: Any, second: Any) -> bool:
    if isinstance(first, float) and isinstance(second, float) and math.isnan(first):
        return math.isnan(second)
    if isinstance(first, list) and isinstance(second, list):
        return len(first) == len(second) and all(map(_same, first, second))
    return bool(first == second) and type(first) is type(second)


@SETTINGS
@given(near_expressions)
def test_evaluation_is_deterministic(text: str) -> None:
    first = _outcome(text, CONTEXTS)
    second = _outcome(text, CONTEXTS)
    expression_module.parse.cache_clear()
    third = _outcome(text, CONTEXTS)
    assert first[0] == second[0] == third[0]
    assert _same(first[1], second[1])
    assert _same(first[1], third[1])


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1)
    # Near the largest double, 15 digits round up past it (to Infinity), as they do on GitHub.
    | st.floats(min_value=-1e308, max_value=1e308)
    | st.sampled_from([math.nan, math.inf, -math.inf])
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)


@SETTINGS
@given(json_values)
def test_to_json_of_from_json_round_trips(value: Any) -> None:
    text = expressions.to_json(value)
    assert expressions.to_json(expressions.from_json(text)) == text
    assert expressions.evaluate("toJSON(fromJSON(x))", {"x": text}) == text


exact_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**15) + 1, 10**15 - 1) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)


@SETTINGS
@given(exact_json_values)
def test_from_json_of_to_json_gives_the_value_back(value: Any) -> None:
    # Integers stay below 10**15: GitHub writes numbers with 15 significant digits.
    assert expressions.evaluate("fromJSON(toJSON(x))", {"x": value}) == value
