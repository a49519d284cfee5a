"""Fractional bucketing, case by case, against flagd's documented algorithm.

The expected buckets were computed with the MurmurHash3 x86 32-bit reference algorithm (written
out below, independent of the mmh3 library) and flagd's mapping ``(hash * total) >> 32`` walked
through the cumulative weights; the bucketing string is the flag key followed by the
targeting key.
"""

from __future__ import annotations

import pytest

from shipyard.flags import definitions, evaluator, targeting


def murmur3_32(data: bytes, seed: int = 0) -> int:
    """MurmurHash3_x86_32 as published with SMHasher."""
    c1, c2, mask = 0xCC9E2D51, 0x1B873593, 0xFFFFFFFF
    h = seed
    rounded = len(data) & ~3
    for i in range(0, rounded, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * c1) & mask
        k = ((k << 15) | (k >> 17)) & mask
        k = (k * c2) & mask
        h ^= k
        h = ((h << 13) | (h >> 19)) & mask
        h = (h * 5 + 0xE6546B64) & mask
    k = 0
    for index, byte in enumerate(data[rounded:]):
        k |= byte << (8 * index)
    if len(data) > rounded:
        k = (((((k * c1) & mask) << 15) | (((k * c1) & mask) >> 17)) & mask) * c2 & mask
        h ^= k
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & mask
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & mask
    return h ^ (h >> 16)


def test_the_reference_hash_gives_the_published_test_vectors() -> None:
    assert murmur3_32(b"") == 0
    assert murmur3_32(b"hello") == 0x248BFA47
    assert murmur3_32(b"The quick brown fox jumps over the lazy dog") == 0x2E4FF723


# flag key, targeting key, weights, variants, expected variant, hash, point in [0, total)
CASES = [
    ("new-checkout", "user-1", [50, 50], ["on", "off"], "on", 1954156369, 45),
    ("new-checkout", "user-2", [50, 50], ["on", "off"], "on", 986941360, 22),
    ("new-checkout", "user-3", [50, 50], ["on", "off"], "off", 3312559254, 77),
    ("new-checkout", "alice@example.com", [10, 90], ["on", "off"], "off", 3119025750, 72),
    ("headerColor", "bob", [50, 20, 30], ["red", "blue", "green"], "red", 266502028, 6),
    ("headerColor", "carol", [50, 20, 30], ["red", "blue", "green"], "green", 3860318896, 89),
    ("headerColor", "dave", [50, 20, 30], ["red", "blue", "green"], "red", 1764722381, 41),
    ("headerColor", "erin", [25, 25, 25, 25], ["red", "blue", "green", "yellow"], "blue",
     1142004621, 26),
    ("rollout", "k-42", [1, 99999], ["on", "off"], "off", 2563323566, 59682),
    ("rollout", "k-43", [3, 7], ["a", "b"], "b", 1755150986, 4),
    ("rollout", "k-44", [1, 1, 1], ["x", "y", "z"], "z", 4002783840, 2),
    ("ümlaut", "ключ", [1, 2], ["one", "two"], "two", 2263481666, 1),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case[0]}+{case[1]}")
def test_a_targeting_key_lands_in_flagds_bucket(
    case: tuple[str, str, list[int], list[str], str, int, int],
) -> None:
    flag, key, weights, names, expected, hash_, point = case
    assert murmur3_32((flag + key).encode()) == hash_
    assert (hash_ * sum(weights)) >> 32 == point
    assert names[targeting.bucket(flag + key, weights) or 0] == expected
    document = {
        "flags": {
            flag: {
                "state": "ENABLED",
                "variants": {name: name for name in names},
                "defaultVariant": names[0],
                "targeting": {"fractional": [[n, w] for n, w in zip(names, weights, strict=True)]},
            }
        }
    }
    flags = definitions.load_document(document, "flags.json")
    resolution = evaluator.evaluate(flags, flag, {"targetingKey": key})
    assert (resolution.variant, resolution.reason) == (expected, "TARGETING_MATCH")


def _flag(
    rule: object, variants: dict[str, object] | None = None, default: str = "off"
) -> definitions.FlagSet:
    body = {
        "state": "ENABLED",
        "variants": variants or {"red": "red", "blue": "blue", "green": "green", "off": "off"},
        "defaultVariant": default,
        "targeting": rule,
    }
    flags = definitions.load_document({"flags": {"f": body}}, "flags.json")
    assert not flags.problems, flags.problems
    return flags


def test_a_custom_bucketing_expression_hashes_its_own_string() -> None:
    flags = _flag(
        {"fractional": [{"cat": [{"var": "$flagd.flagKey"}, {"var": "email"}]}, ["red", 50],
                        ["blue", 20], ["green", 30]]}
    )  # fmt: skip
    expected = ["red", "blue", "green"][targeting.bucket("fbob@example.com", [50, 20, 30]) or 0]
    assert evaluator.evaluate(flags, "f", {"email": "bob@example.com"}).variant == expected


def test_without_a_targeting_key_the_shorthand_buckets_by_the_flag_key_alone() -> None:
    flags = _flag({"fractional": [["red", 1], ["blue", 1]]})
    expected = ["red", "blue"][targeting.bucket("f", [1, 1]) or 0]
    resolution = evaluator.evaluate(flags, "f", {})
    assert (resolution.variant, resolution.reason) == (expected, "TARGETING_MATCH")


def test_a_bucketing_expression_that_gives_no_string_falls_back() -> None:
    flags = _flag({"fractional": [{"var": "missing"}, ["red", 1], ["blue", 1]]})
    resolution = evaluator.evaluate(flags, "f", {"targetingKey": "u-1"})
    assert (resolution.variant, resolution.reason) == ("off", "DEFAULT")
    numbers = _flag({"fractional": [{"var": "n"}, ["red", 1], ["blue", 1]]})
    assert evaluator.evaluate(numbers, "f", {"n": 3}).reason == "DEFAULT"


def test_weights_of_any_total_and_a_missing_weight_counts_one() -> None:
    flags = _flag({"fractional": [["red"], ["blue", 3]]})
    for key in ("a", "b", "c", "d"):
        expected = ["red", "blue"][targeting.bucket("f" + key, [1, 3]) or 0]
        assert evaluator.evaluate(flags, "f", {"targetingKey": key}).variant == expected


def test_zero_total_weight_and_computed_negative_weights_fall_back() -> None:
    flags = _flag({"fractional": [["red", 0], ["blue", 0]]})
    assert evaluator.evaluate(flags, "f", {"targetingKey": "x"}).reason == "DEFAULT"
    clamped = _flag({"fractional": [["red", {"-": [0, 5]}], ["blue", 1]]})
    assert evaluator.evaluate(clamped, "f", {"targetingKey": "x"}).variant == "blue"


def test_nested_fractional_and_boolean_variants() -> None:
    inner = {"fractional": [["red", 1], ["blue", 1]]}
    flags = _flag({"fractional": [[inner, 1], ["green", 0]]})
    key = "k-1"
    expected = ["red", "blue"][targeting.bucket("f" + key, [1, 1]) or 0]
    assert evaluator.evaluate(flags, "f", {"targetingKey": key}).variant == expected
    booleans = _flag(
        {"fractional": [[True, 1], [False, 0]]},
        variants={"true": "yes", "false": "no"},
        default="false",
    )
    assert evaluator.evaluate(booleans, "f", {"targetingKey": key}).value == "yes"


def test_time_based_weights_move_with_flagd_timestamp() -> None:
    rule = {"fractional": [["red", {"-": [{"var": "$flagd.timestamp"}, 1000]}], ["blue", 100]]}
    flags = _flag(rule)
    assert evaluator.evaluate(flags, "f", {"targetingKey": "x"}, now=1000).variant == "blue"
    assert evaluator.evaluate(flags, "f", {"targetingKey": "x"}, now=10**9).variant == "red"
