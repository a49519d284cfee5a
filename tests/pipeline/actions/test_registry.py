"""Looking built-in actions up by what a step ``uses:``."""

from __future__ import annotations

import pytest

from shipyard.pipeline.actions import cache, checkout, registry


def test_the_builtins_are_keyed_by_lower_case_owner_and_repo() -> None:
    assert sorted(registry.BUILTINS) == [
        "actions/cache",
        "actions/cache/restore",
        "actions/cache/save",
        "actions/checkout",
        "actions/download-artifact",
        "actions/setup-python",
        "actions/upload-artifact",
        "astral-sh/setup-uv",
        "shipyard/scan",
    ]


@pytest.mark.parametrize(
    "uses",
    [
        "actions/checkout@v4",
        "actions/checkout@v3.6.0",
        "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683",
        "Actions/Checkout@main",
        "actions/checkout",
        " actions/checkout@v4 ",
    ],
)
def test_any_ref_finds_the_builtin(uses: str) -> None:
    assert isinstance(registry.find_builtin(uses), checkout.Checkout)


def test_cache_actions_are_found_by_their_paths() -> None:
    assert isinstance(registry.find_builtin("actions/cache@v4"), cache.Cache)
    assert isinstance(registry.find_builtin("actions/cache/restore@v4"), cache.CacheRestore)
    assert isinstance(registry.find_builtin("actions/cache/save@v4"), cache.CacheSave)


@pytest.mark.parametrize(
    "uses",
    [
        "./.github/actions/greet",
        "docker://alpine:3",
        "actions/cache/other@v4",
        "actions/checkouts@v4",
    ],
)
def test_anything_else_is_not_a_builtin(uses: str) -> None:
    assert registry.find_builtin(uses) is None
