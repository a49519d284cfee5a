"""Properties: fractional splits match their weights, evaluation is deterministic, and no
definition or context crashes the loader or the evaluator."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shipyard.flags import definitions, evaluator, targeting

KEYS = 100_000


@settings(max_examples=5, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=1000), min_size=2, max_size=5),
       st.text(min_size=1, max_size=12))  # fmt: skip
def test_fractional_shares_are_within_one_percent_of_the_weights(
    weights: list[int], flag_key: str
) -> None:
    counts = [0] * len(weights)
    for i in range(KEYS):
        chosen = targeting.bucket(f"{flag_key}user-{i}", weights)
        assert chosen is not None
        counts[chosen] += 1
    total = sum(weights)
    for weight, count in zip(weights, counts, strict=True):
        assert abs(count / KEYS - weight / total) < 0.01, (weights, counts)


FLAG = definitions.load_document(
    {"flags": {"f": {"state": "ENABLED", "variants": {"a": 1, "b": 2, "c": 3},
                     "defaultVariant": "a",
                     "targeting": {"if": [{"in": ["@x.io", {"var": "email"}]},
                                          {"fractional": [["b", 30], ["c", 70]]}, None]}}}},
    "flags.json",
)  # fmt: skip

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["targetingKey", "email", "$flagd", "x"]), json_values))
def test_evaluation_is_deterministic(context: dict[str, Any]) -> None:
    first = evaluator.evaluate(FLAG, "f", context, now=1_700_000_000)
    again = evaluator.evaluate(FLAG, "f", dict(context), now=1_700_000_000)
    assert first == again


OPERATORS = ["var", "if", "==", "===", "!=", "!", "!!", "or", "and", "<", ">", "<=", ">=", "+",
             "-", "*", "/", "%", "max", "min", "cat", "substr", "in", "merge", "map", "filter",
             "all", "some", "none", "reduce", "missing", "missing_some", "fractional", "sem_ver",
             "starts_with", "ends_with", "?:"]  # fmt: skip

rules = st.recursive(
    json_values,
    lambda inner: st.dictionaries(st.sampled_from(OPERATORS), inner | st.lists(inner, max_size=4),
                                  min_size=1, max_size=1),
    max_leaves=20,
)  # fmt: skip


@settings(max_examples=250, deadline=None)
@given(
    rules, st.dictionaries(st.sampled_from(["targetingKey", "email", "version", "x"]), json_values)
)
def test_no_rule_or_context_crashes_the_evaluator(rule: Any, context: dict[str, Any]) -> None:
    body = {"state": "ENABLED", "variants": {"a": "A", "true": "T", "1": "one"},
            "defaultVariant": "a", "targeting": rule}  # fmt: skip
    flags = definitions.load_document({"flags": {"f": body}}, "flags.json")
    if flags.problems:
        assert flags.problems[0].flag == "f" and flags.problems[0].reason
        return
    resolution = evaluator.evaluate(flags, "f", context)
    assert resolution.reason in {"STATIC", "TARGETING_MATCH", "DEFAULT", "ERROR"}
    if resolution.reason == "ERROR":
        assert resolution.error_code in {"PARSE_ERROR", "GENERAL"}


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_no_document_crashes_the_loader(document: Any) -> None:
    loaded = definitions.load_document(document, "flags.json")
    assert loaded.problems or isinstance(document, dict)
