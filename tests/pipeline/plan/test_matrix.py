from __future__ import annotations

import pytest

from shipyard.pipeline.plan import matrix


def test_product_order_first_dimension_slowest() -> None:
    combos = matrix.expand({"os": ["linux", "mac"], "py": ["3.11", "3.12"]})
    assert combos == [
        {"os": "linux", "py": "3.11"},
        {"os": "linux", "py": "3.12"},
        {"os": "mac", "py": "3.11"},
        {"os": "mac", "py": "3.12"},
    ]


def test_github_documented_include_example() -> None:
    combos = matrix.expand(
        {"fruit": ["apple", "pear"], "animal": ["cat", "dog"]},
        include=[
            {"color": "green"},
            {"color": "pink", "animal": "cat"},
            {"fruit": "apple", "shape": "circle"},
            {"fruit": "banana"},
            {"fruit": "banana", "animal": "cat"},
        ],
    )
    assert combos == [
        {"fruit": "apple", "animal": "cat", "color": "pink", "shape": "circle"},
        {"fruit": "apple", "animal": "dog", "color": "green", "shape": "circle"},
        {"fruit": "pear", "animal": "cat", "color": "pink"},
        {"fruit": "pear", "animal": "dog", "color": "green"},
        {"fruit": "banana"},
        {"fruit": "banana", "animal": "cat"},
    ]


def test_exclude_partial_match_then_include_only() -> None:
    combos = matrix.expand(
        {"os": ["linux", "mac"], "py": [3.11, 3.12]},
        exclude=[{"os": "mac"}],
    )
    assert combos == [{"os": "linux", "py": 3.11}, {"os": "linux", "py": 3.12}]
    assert matrix.expand({}, include=[{"a": 1}, {"a": 2}]) == [{"a": 1}, {"a": 2}]


def test_exclusion_of_everything_leaves_includes() -> None:
    assert matrix.expand({"a": [1]}, include=[{"b": 2}], exclude=[{"a": 1}]) == [{"b": 2}]


@pytest.mark.parametrize(
    ("dimensions", "include", "message"),
    [
        ({"os": "linux"}, [], "matrix dimension `os` must be an array, found a string"),
        ({"os": []}, [], "matrix dimension `os` is empty"),
        ({}, ["x"], "each matrix `include` entry must be a mapping, found a string"),
        ({"a": list(range(20)), "b": list(range(20))}, [], "the matrix generates 400 jobs"),
    ],
)
def test_invalid_matrices(dimensions: dict, include: list, message: str) -> None:
    with pytest.raises(matrix.MatrixError) as caught:
        matrix.expand(dimensions, include)
    assert caught.value.message == message


def test_describe_joins_scalar_values() -> None:
    assert matrix.describe({"os": "linux", "py": 3.12, "x": True, "n": {"a": 1}}) == (
        "linux, 3.12, true"
    )
