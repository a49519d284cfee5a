"""GitHub's coercions, comparisons and JSON text, beyond what the reference cases cover."""

from __future__ import annotations

import math

import pytest

from shipyard import expressions
from shipyard.expressions import values


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (1.0, "1"),
        (-0.0, "0"),
        (0.1 + 0.2, "0.3"),
        (1 / 3, "0.333333333333333"),
        (123456789012345, "123456789012345"),
        (1234567890123456, "1.23456789012346E+15"),
        (1e15, "1E+15"),
        (1e21, "1E+21"),
        (2**64, "1.84467440737096E+19"),
        (0.0001, "0.0001"),
        (0.00001, "1E-05"),
        (-1e-7, "-1E-07"),
        (math.nan, "NaN"),
        (math.inf, "Infinity"),
        (-math.inf, "-Infinity"),
        (10**400, "Infinity"),
    ],
)
def test_numbers_are_written_with_15_significant_digits(number: float, text: str) -> None:
    assert values.format_number(number) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (True, "true"),
        (False, "false"),
        (3, "3"),
        (2.5, "2.5"),
        ("text", "text"),
        ([1, 2], "Array"),
        ({"a": 1}, "Object"),
        ((1, 2), "Array"),
    ],
)
def test_to_string(value: object, text: str) -> None:
    assert expressions.to_string(value) == text


@pytest.mark.parametrize(
    ("text", "number"),
    [
        (" 12 ", 12),
        ("", 0),
        ("1.", 1),
        ("+.5", 0.5),
        ("0xff", 255),
        ("0o17", 15),
        ("0xffffffff", 4294967295),
        ("Infinity", math.inf),
        ("+Infinity", math.inf),
        ("-Infinity", -math.inf),
    ],
)
def test_strings_that_are_numbers(text: str, number: float) -> None:
    assert values.parse_number(text) == number


@pytest.mark.parametrize("text", ["0X10", "0b1", "1_000", "1e", ".", "0x", "infinity", "1 2"])
def test_strings_that_are_not_numbers(text: str) -> None:
    assert math.isnan(values.parse_number(text))


def test_results_are_ints_when_integral() -> None:
    assert type(expressions.evaluate("1.0", {})) is int
    assert type(expressions.evaluate("0x10", {})) is int
    assert type(expressions.evaluate("1.5", {})) is float
    assert type(expressions.evaluate("1e300", {})) is float  # too large to be exact as an int
    assert expressions.evaluate("fromJSON('[1.0, 2.5, -0]')", {}) == [1, 2.5, 0]
    assert [type(item) for item in expressions.evaluate("fromJSON('[1.0, -0]')", {})] == [int, int]


def test_truthiness() -> None:
    falsy = [None, False, 0, 0.0, -0.0, math.nan, ""]
    truthy = [True, 1, -1, math.inf, "0", "false", " ", [], {}]
    assert [expressions.truthy(value) for value in falsy] == [False] * len(falsy)
    assert [expressions.truthy(value) for value in truthy] == [True] * len(truthy)


def test_case_folding_is_per_character_like_dotnet() -> None:
    assert expressions.evaluate("'straße' == 'STRASSE'", {}) is False
    assert expressions.evaluate("'Straße' == 'STRAßE'", {}) is True
    assert expressions.evaluate("'ı' == 'I'", {}) is False
    assert expressions.evaluate("'ÉCOLE' == 'école'", {}) is True


def test_strings_order_by_utf16_code_units() -> None:
    # U+FF5E sorts after the surrogate pair of U+1F600 in UTF-16, before it by code point.
    assert expressions.evaluate("'～' > '😀'", {}) is True


def test_property_lookup_is_case_insensitive_and_prefers_the_exact_key() -> None:
    contexts = {"GitHub": {"Event_Name": "push", "ref": "a", "REF": "b"}}
    assert expressions.evaluate("github.event_name", contexts) == "push"
    assert expressions.evaluate("GITHUB['EVENT_NAME']", contexts) == "push"
    assert expressions.evaluate("github.REF", contexts) == "b"
    assert expressions.evaluate("github.Ref", contexts) == "a"


def test_contexts_may_be_any_mapping_and_sequence() -> None:
    from types import MappingProxyType

    contexts = {"matrix": MappingProxyType({"os": ("linux", "mac")})}
    assert expressions.evaluate("matrix.os[1]", contexts) == "mac"
    assert expressions.evaluate("join(matrix.os.*, '+')", contexts) == "linux+mac"
    assert (
        expressions.evaluate("toJSON(matrix)", contexts)
        == '{\n  "os": [\n    "linux",\n    "mac"\n  ]\n}'
    )


def test_filters_return_plain_lists() -> None:
    result = expressions.evaluate("needs.*.result", {"needs": {"a": {"result": "success"}}})
    assert type(result) is list
    assert result == ["success"]


def test_to_json_escapes_like_github() -> None:
    text = expressions.to_json({"a": '\u2028\n\t"\\\x01é', "n": [1.5, None, True], "e": {}})
    assert text == (
        '{\n  "a": "\\u2028\\n\\t\\"\\\\\\u0001é",\n'
        '  "n": [\n    1.5,\n    null,\n    true\n  ],\n  "e": {}\n}'
    )


def test_to_json_refuses_a_value_that_contains_itself() -> None:
    looped: dict[str, object] = {}
    looped["self"] = [looped]
    with pytest.raises(ValueError, match="contains itself"):
        expressions.to_json(looped)
    shared = {"x": 1}
    assert (
        expressions.to_json([shared, shared]) == '[\n  {\n    "x": 1\n  },\n  {\n    "x": 1\n  }\n]'
    )


def test_from_json_reports_where_the_text_is_wrong() -> None:
    with pytest.raises(ValueError, match="line 1, column 2"):
        expressions.from_json("{bad")
    with pytest.raises(ValueError, match="empty"):
        expressions.from_json("  ")
    assert expressions.from_json("12345678901234567890") == 12345678901234567890 * 1.0
