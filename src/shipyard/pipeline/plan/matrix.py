"""Matrix expansion with GitHub's rules. Pure: no I/O.

Given the matrix's evaluated values, ``expand`` returns the job's combinations in GitHub's order:
the cartesian product of the dimensions (the first dimension varies slowest), minus ``exclude``
entries (a partial match removes a combination), plus ``include`` entries (added to every original
combination they do not contradict, else appended as combinations of their own).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from shipyard.core import errors

MAX_COMBINATIONS = 256
"""GitHub's limit on the jobs one matrix may generate per run."""

Combination = dict[str, Any]


class MatrixError(errors.SpecError):
    """The matrix is invalid once its expressions are evaluated."""


def expand(
    dimensions: Mapping[str, Any],
    include: Sequence[Any] = (),
    exclude: Sequence[Any] = (),
) -> list[Combination]:
    """All combinations of one job's matrix, in GitHub's order."""
    for key, values in dimensions.items():
        if not isinstance(values, list):
            raise MatrixError(
                f"matrix dimension `{key}` must be an array, found {_kind(values)}",
                hint="write it as a list: `" + key + ": [a, b]`",
            )
        if not values:
            raise MatrixError(
                f"matrix dimension `{key}` is empty",
                hint="give it at least one value or remove it",
            )
    _check_entries("include", include)
    _check_entries("exclude", exclude)

    keys = list(dimensions)
    product = (
        [
            dict(zip(keys, values, strict=True))
            for values in itertools.product(*(dimensions[key] for key in keys))
        ]
        if keys
        else []
    )
    if len(product) > MAX_COMBINATIONS * 4:
        raise MatrixError(
            f"the matrix has {len(product)} combinations before exclusions",
            hint=f"GitHub allows at most {MAX_COMBINATIONS} jobs per matrix",
        )
    kept = [combo for combo in product if not any(_matches(combo, ex) for ex in exclude)]
    combined = _apply_includes(kept, list(include), original_keys=set(keys))
    if len(combined) > MAX_COMBINATIONS:
        raise MatrixError(
            f"the matrix generates {len(combined)} jobs",
            hint=f"GitHub allows at most {MAX_COMBINATIONS} jobs per matrix; split the job",
        )
    return combined


def _apply_includes(
    combinations: list[Combination], includes: list[Mapping[str, Any]], original_keys: set[str]
) -> list[Combination]:
    """GitHub's include rule, entry by entry in order.

    An entry is merged into every original combination whose original values it does not
    contradict (values added by earlier includes may be overwritten); an entry merged nowhere
    becomes a combination of its own. Combinations appended that way take no further merges.
    """
    originals = [dict(combo) for combo in combinations]
    appended: list[Combination] = []
    for entry in includes:
        merged = False
        for combo in originals:
            if all(
                _loosely_equal(combo[key], value)
                for key, value in entry.items()
                if key in original_keys
            ):
                combo.update(entry)
                merged = True
        if not merged:
            appended.append(dict(entry))
    return originals + appended


def _matches(combo: Mapping[str, Any], partial: Mapping[str, Any]) -> bool:
    return all(key in combo and _loosely_equal(combo[key], value) for key, value in partial.items())


def _loosely_equal(left: Any, right: Any) -> bool:
    """Matrix values compare like JSON values (mappings by content)."""
    return bool(left == right and type(left) is type(right)) or (
        isinstance(left, int | float)
        and isinstance(right, int | float)
        and not isinstance(left, bool)
        and not isinstance(right, bool)
        and left == right
    )


def _check_entries(name: str, entries: Sequence[Any]) -> None:
    if not isinstance(entries, list | tuple):
        raise MatrixError(f"matrix `{name}` must be an array of mappings, found {_kind(entries)}")
    for entry in entries:
        if not isinstance(entry, dict):
            raise MatrixError(
                f"each matrix `{name}` entry must be a mapping, found {_kind(entry)}",
                hint=f"write `{name}: [{{os: linux, python: '3.12'}}]`",
            )


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def describe(combination: Mapping[str, Any]) -> str:
    """How GitHub names a matrix job: the values joined by ``, `` (nested values as JSON)."""
    parts = []
    for value in combination.values():
        if isinstance(value, dict | list):
            continue
        if value is None:
            parts.append("")
        elif isinstance(value, bool):
            parts.append("true" if value else "false")
        else:
            parts.append(str(value))
    return ", ".join(parts)
