"""Which entries go to fit a cap: least recently used first, shared blobs counted once."""

from __future__ import annotations

from shipyard.cache import eviction

SIZES = {"a": 100, "b": 200, "shared": 1000, "c": 50}


def test_nothing_is_evicted_under_the_cap() -> None:
    order = [("old", frozenset({"a"})), ("new", frozenset({"b"}))]
    assert eviction.plan(order, SIZES, 300) == []


def test_least_recently_used_go_first_until_under_the_cap() -> None:
    order = [("old", frozenset({"a"})), ("mid", frozenset({"b"})), ("new", frozenset({"c"}))]
    assert eviction.plan(order, SIZES, 250) == ["old"]
    assert eviction.plan(order, SIZES, 249) == ["old", "mid"]
    assert eviction.plan(order, SIZES, 0) == ["old", "mid", "new"]


def test_a_shared_blob_counts_once_and_frees_nothing_until_its_last_entry_goes() -> None:
    order = [
        ("old", frozenset({"shared", "a"})),
        ("new", frozenset({"shared", "b"})),
    ]
    # needed: shared + a + b = 1300 bytes; evicting "old" frees only "a" (100 bytes).
    assert eviction.plan(order, SIZES, 1200) == ["old"]
    assert eviction.plan(order, SIZES, 1199) == ["old", "new"]


def test_blobs_of_unknown_size_count_as_empty() -> None:
    assert eviction.plan([("only", frozenset({"missing"}))], SIZES, 0) == []
