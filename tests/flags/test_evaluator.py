"""Reasons, variants and error codes, as flagd returns them."""

from __future__ import annotations

from typing import Any

import pytest

from shipyard.flags import definitions, evaluator

DOCUMENT: dict[str, Any] = {
    "metadata": {"flagSetId": "shop", "version": "3"},
    "flags": {
        "static": {"state": "ENABLED", "variants": {"on": True, "off": False},
                   "defaultVariant": "on", "metadata": {"version": "7"}},
        "disabled": {"state": "DISABLED", "variants": {"on": True, "off": False},
                     "defaultVariant": "on"},
        "code-default": {"state": "ENABLED", "variants": {"a": "A"}, "defaultVariant": None},
        "no-default": {"state": "ENABLED", "variants": {"a": "A"}},
        "empty-targeting": {"state": "ENABLED", "variants": {"a": 1, "b": 2},
                            "defaultVariant": "b", "targeting": {}},
        "targeted": {"state": "ENABLED", "variants": {"red": "#f00", "blue": "#00f"},
                     "defaultVariant": "red",
                     "targeting": {"if": [{"==": [{"var": "tier"}, "gold"]}, "blue", None]}},
        "targeted-no-default": {"state": "ENABLED", "variants": {"red": "#f00"},
                                "defaultVariant": None,
                                "targeting": {"if": [{"var": "vip"}, "red", None]}},
        "bad-variant": {"state": "ENABLED", "variants": {"red": "#f00"}, "defaultVariant": "red",
                        "targeting": {"cat": ["gr", "een"]}},
        "boolean-result": {"state": "ENABLED", "variants": {"true": 1.5, "false": 0.5},
                           "defaultVariant": "false",
                           "targeting": {"starts_with": [{"var": "email"}, "admin@"]}},
        "flag-key": {"state": "ENABLED", "variants": {"flag-key": "mine", "other": "x"},
                     "defaultVariant": "other", "targeting": {"var": "$flagd.flagKey"}},
        "object": {"state": "ENABLED", "variants": {"small": {"size": 1}, "big": {"size": 9}},
                   "defaultVariant": "small"},
    },
}  # fmt: skip
FLAGS = definitions.load_document(DOCUMENT, "flags.json")


def test_the_document_loads() -> None:
    assert FLAGS.problems == ()


@pytest.mark.parametrize(
    ("key", "context", "reason", "variant", "value"),
    [
        ("static", {}, "STATIC", "on", True),
        ("disabled", {}, "DISABLED", None, None),
        ("code-default", {}, "DEFAULT", None, None),
        ("no-default", {}, "DEFAULT", None, None),
        ("empty-targeting", {}, "STATIC", "b", 2),
        ("targeted", {"tier": "gold"}, "TARGETING_MATCH", "blue", "#00f"),
        ("targeted", {"tier": "silver"}, "DEFAULT", "red", "#f00"),
        ("targeted-no-default", {}, "DEFAULT", None, None),
        ("targeted-no-default", {"vip": True}, "TARGETING_MATCH", "red", "#f00"),
        ("boolean-result", {"email": "admin@x"}, "TARGETING_MATCH", "true", 1.5),
        ("boolean-result", {"email": "bob@x"}, "TARGETING_MATCH", "false", 0.5),
        ("flag-key", {"$flagd": {"flagKey": "other"}}, "TARGETING_MATCH", "flag-key", "mine"),
    ],
)
def test_reason_and_variant(
    key: str, context: dict[str, Any], reason: str, variant: str | None, value: Any
) -> None:
    resolution = evaluator.evaluate(FLAGS, key, context)
    assert (resolution.reason, resolution.variant, resolution.value) == (reason, variant, value)
    assert resolution.error_code is None
    assert resolution.uses_caller_default is (variant is None)


def test_errors_carry_flagds_codes() -> None:
    missing = evaluator.evaluate(FLAGS, "nope", {})
    assert (missing.reason, missing.error_code) == ("ERROR", "FLAG_NOT_FOUND")
    assert missing.error_message == "flag `nope` does not exist"
    bad = evaluator.evaluate(FLAGS, "bad-variant", {})
    assert (bad.reason, bad.error_code) == ("ERROR", "GENERAL")
    assert (
        bad.error_message
        == "the targeting of flag `bad-variant` gave `green`, which is not a variant"
    )


def test_metadata_merges_set_and_flag_and_the_flag_wins() -> None:
    assert evaluator.evaluate(FLAGS, "static").metadata == {"flagSetId": "shop", "version": "7"}
    assert evaluator.evaluate(FLAGS, "targeted").metadata == {"flagSetId": "shop", "version": "3"}


@pytest.mark.parametrize(
    ("key", "wanted", "value", "code"),
    [
        ("static", "boolean", True, None),
        ("static", "string", None, "TYPE_MISMATCH"),
        ("empty-targeting", "integer", 2, None),
        ("empty-targeting", "float", 2.0, None),
        ("object", "object", {"size": 1}, None),
        ("object", "integer", None, "TYPE_MISMATCH"),
        ("targeted", "string", "#f00", None),
    ],
)
def test_typed_evaluation(key: str, wanted: Any, value: Any, code: str | None) -> None:
    resolution = evaluator.check_type(evaluator.evaluate(FLAGS, key), wanted)
    assert (resolution.value, resolution.error_code) == (value, code)
    assert type(resolution.value) is type(value)


def test_a_rule_that_fails_to_run_is_a_parse_error() -> None:
    deep: Any = {"var": "x"}
    for _ in range(3000):
        deep = {"!": [deep]}
    body = {"state": "ENABLED", "variants": {"a": 1}, "defaultVariant": "a", "targeting": deep}
    flags = definitions.load_document({"flags": {"deep": body}}, "flags.json")
    if flags.problems:  # refused when compiling: the rule is nested too deeply
        assert flags.problems[0].reason == "the rule is nested too deeply"
    else:
        resolution = evaluator.evaluate(flags, "deep", {})
        assert (resolution.reason, resolution.error_code) == ("ERROR", "PARSE_ERROR")
