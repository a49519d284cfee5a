"""Cases from flagd's own evaluator test suite (the flagd-testbed's gherkin features, with its
high-precision fractional bucketing, "fractional-v2"), as input and expected output. The flag
definitions are written here; each case names the feature it comes from."""

from __future__ import annotations

from typing import Any

import pytest

from shipyard.flags import definitions, evaluator

SUITS = {"clubs": 25, "diamonds": 25, "hearts": 25, "spades": 25}


def _suits(seed: Any, values: dict[str, str] | None = None) -> dict[str, Any]:
    names = values or {suit: suit for suit in SUITS}
    return {
        "state": "ENABLED",
        "variants": {**names, "wild": "wild"},
        "defaultVariant": "wild",
        "targeting": {"fractional": [seed, *([suit, weight] for suit, weight in SUITS.items())]},
    }


def _flag(rule: Any, variants: dict[str, Any], default: str | None = "fallback") -> dict[str, Any]:
    return {"state": "ENABLED", "variants": variants, "defaultVariant": default, "targeting": rule}


SHARED = {"cat": ["shared-seed", {"var": "user.name"}]}
FLAGS = definitions.load_document(
    {
        "$evaluators": {
            "is_ballmer": {"==": ["ballmer@macrosoft.com", {"var": "email"}]},
            "is_privileged": {"or": [{"$ref": "is_ballmer"}, {"==": [{"var": "role"}, "admin"]}]},
        },
        "flags": {
            "fractional-flag": _suits({"cat": [{"var": "$flagd.flagKey"}, {"var": "user.name"}]}),
            "fractional-flag-A-shared-seed": _suits(SHARED),
            "fractional-flag-B-shared-seed": _suits(
                SHARED, {suit: f"ace-of-{suit}" for suit in SUITS}
            ),
            "fractional-flag-shorthand": _flag(
                {"fractional": [["heads"], ["tails", 1]]},
                {"heads": "heads", "tails": "tails", "draw": "draw"}, "draw",
            ),
            "fractional-hash-edge-flag": _flag(
                {"fractional": [{"var": "targetingKey"}, ["lower", 50], ["upper", 50]]},
                {"lower": "lower", "upper": "upper"}, "lower",
            ),
            "fractional-nested-if-flag": _flag(
                {"fractional": [{"var": "targetingKey"},
                                [{"if": [{"==": [{"var": "tier"}, "premium"]}, "premium",
                                         "standard"]}, 50],
                                ["standard", 50]]},
                {"premium": "premium", "standard": "standard", "fallback": "fallback"},
            ),
            "fractional-nested-var-flag": _flag(
                {"fractional": [{"var": "targetingKey"}, [{"var": "color"}, 50], ["blue", 50]]},
                {"red": "red", "green": "green", "blue": "blue", "fallback": "fallback"},
            ),
            "fractional-nested-weight-flag": _flag(
                {"fractional": [{"var": "targetingKey"},
                                ["red", {"if": [{"==": [{"var": "tier"}, "premium"]}, 100, 0]}],
                                ["blue", 10]]},
                {"red": "red", "blue": "blue", "fallback": "fallback"},
            ),
            "fractional-as-condition-flag": _flag(
                {"if": [{"fractional": [[False, 0], [True, 100]]}, "big", "small"]},
                {"big": "hundreds", "small": "ones", "fallback": "zero"},
            ),
            "fractional-single-entry-flag": _flag(
                {"fractional": [["single", 1]]}, {"single": "single", "fallback": "fallback"}
            ),
            "fractional-null-bucket-key-flag": _flag(
                {"fractional": [{"var": "missing_key"}, ["one", 50], ["two", 50]]},
                {"one": "one", "two": "two", "fallback": "fallback"},
            ),
            "semver-invalid-version-flag": _flag(
                {"sem_ver": [{"var": "version"}, "=", "1.0.0"]},
                {"match": "match", "no-match": "no-match", "fallback": "fallback"},
            ),
            "semver-v-prefix-flag": _flag(
                {"if": [{"sem_ver": [{"var": "version"}, "=", "v1.0.0"]}, "match", "no-match"]},
                {"match": "match", "no-match": "no-match"}, "no-match",
            ),
            "semver-partial-version-flag": _flag(
                {"if": [{"sem_ver": [{"var": "version"}, "^", "1"]}, "match", "no-match"]},
                {"match": "match", "no-match": "no-match"}, "no-match",
            ),
            "semver-build-metadata-flag": _flag(
                {"if": [{"sem_ver": [{"var": "version"}, "=", "1.0.0+build"]}, "match",
                        "no-match"]},
                {"match": "match", "no-match": "no-match"}, "no-match",
            ),
            "starts-with-non-string-flag": _flag(
                {"starts_with": [{"var": "num"}, "1"]}, {"true": "t", "fallback": "fallback"}
            ),
            "nested-ref-targeted-flag": _flag(
                {"if": [{"$ref": "is_privileged"}, "privileged", "standard"]},
                {"privileged": "privileged", "standard": "standard", "fallback": "fallback"},
            ),
            "no-default-flag-undefined-targeting-variant": _flag(
                {"if": [{"==": ["jobs@orange.com", {"var": "email"}]}, "special"]},
                {"normal": "CFO", "special": "CEO"}, None,
            ),
        },
    },
    "testbed.json",
)  # fmt: skip

CASES: list[tuple[str, dict[str, Any], str]] = [
    # fractional.feature, v2
    *[("fractional-flag", {"user": {"name": n}}, v) for n, v in
      [("jack", "hearts"), ("queen", "spades"), ("ten", "clubs"), ("nine", "diamonds"),
       ("3", "clubs")]],
    *[("fractional-flag-A-shared-seed", {"user": {"name": n}}, v) for n, v in
      [("seven", "hearts"), ("eight", "diamonds"), ("nine", "clubs"), ("two", "spades")]],
    *[("fractional-flag-B-shared-seed", {"user": {"name": n}}, v) for n, v in
      [("seven", "ace-of-hearts"), ("eight", "ace-of-diamonds"), ("nine", "ace-of-clubs"),
       ("two", "ace-of-spades")]],
    ("fractional-flag-shorthand", {"targetingKey": "jon@company.com"}, "heads"),
    ("fractional-flag-shorthand", {"targetingKey": "jane@company.com"}, "tails"),
    *[("fractional-hash-edge-flag", {"targetingKey": k}, v) for k, v in
      [("ejOoVL", "lower"), ("bY9fO-", "lower"), ("SI7p-", "lower"), ("6LvT0", "upper"),
       ("ceQdGm", "upper")]],
    *[("fractional-nested-if-flag", {"targetingKey": k, "tier": t}, v) for k, t, v in
      [("jon@company.com", "premium", "premium"), ("jon@company.com", "basic", "standard"),
       ("user1", "premium", "standard"), ("user1", "basic", "standard")]],
    *[("fractional-nested-var-flag", {"targetingKey": k, "color": c}, v) for k, c, v in
      [("jon@company.com", "red", "red"), ("jon@company.com", "green", "green"),
       ("user1", "red", "blue"), ("jon@company.com", "yellow", "caller"),
       ("jon@company.com", "", "caller")]],
    *[("fractional-nested-weight-flag", {"targetingKey": k, "tier": t}, v) for k, t, v in
      [("jon@company.com", "premium", "red"), ("jon@company.com", "basic", "blue"),
       ("user1", "premium", "red"), ("user1", "basic", "blue")]],
    ("fractional-as-condition-flag", {"targetingKey": "some-targeting-key"}, "hundreds"),
    ("fractional-single-entry-flag", {}, "single"),
    ("fractional-null-bucket-key-flag", {}, "fallback"),
    # semver.feature
    ("semver-invalid-version-flag", {"version": "not-a-version"}, "fallback"),
    *[("semver-v-prefix-flag", {"version": v}, r) for v, r in
      [("1.0.0", "match"), ("v1.0.0", "match"), ("2.0.0", "no-match")]],
    *[("semver-partial-version-flag", {"version": v}, r) for v, r in
      [("1.5.0", "match"), ("1.0.0", "match"), ("2.0.0", "no-match")]],
    *[("semver-build-metadata-flag", {"version": v}, r) for v, r in
      [("1.0.0", "match"), ("1.0.0+other", "match"), ("2.0.0", "no-match")]],
    # string.feature: null, not false, for a non-string input
    ("starts-with-non-string-flag", {"num": 123}, "fallback"),
    # evaluator-refs.feature: nested $ref
    ("nested-ref-targeted-flag", {"email": "ballmer@macrosoft.com"}, "privileged"),
    ("nested-ref-targeted-flag", {"role": "admin"}, "privileged"),
    ("nested-ref-targeted-flag", {"email": "other@example.com"}, "standard"),
    # no-default-variant: an if without else gives null, and there is no default variant
    ("no-default-flag-undefined-targeting-variant", {"email": "x@y.z"}, "caller"),
    ("no-default-flag-undefined-targeting-variant", {"email": "jobs@orange.com"}, "CEO"),
]  # fmt: skip


def test_the_flags_load() -> None:
    assert FLAGS.problems == ()


@pytest.mark.parametrize(("key", "context", "expected"), CASES)
def test_flagd_testbed_case(key: str, context: dict[str, Any], expected: str) -> None:
    resolution = evaluator.evaluate(FLAGS, key, context)
    value = resolution.value if resolution.variant is not None else "caller"
    assert value == expected, resolution
