"""GitHub's reference cases for the expression language, and how one case is checked.

The cases live in ``../shared/corpus/gha-expressions/expressions/testdata/*.json``: each has an
expression, optional contexts and either a result (kind and value) or an error (kind and a message
that must appear in ours, as the reference harness checks it).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipyard import expressions
from tests.conftest import CORPUS

CASES_DIRECTORY = CORPUS / "gha-expressions" / "expressions" / "testdata"

SUMMARY: list[str] = []
"""The pass count of the last full run, for the terminal summary (see conftest.py)."""

_KINDS = {
    type(None): "Null",
    bool: "Boolean",
    int: "Number",
    float: "Number",
    str: "String",
    list: "Array",
    dict: "Object",
}


@dataclass(frozen=True)
class Case:
    """One reference case."""

    file: str
    group: str
    number: int
    expression: str
    contexts: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    skip: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.file}:{self.group}:{self.number}"


def load_cases(directory: Path = CASES_DIRECTORY) -> list[Case]:
    """Every case, in file order."""
    cases = []
    for path in sorted(directory.glob("*.json")):
        groups = json.loads(path.read_text(encoding="utf-8"))
        for group, entries in groups.items():
            for number, entry in enumerate(entries):
                cases.append(
                    Case(
                        file=path.stem,
                        group=group,
                        number=number,
                        expression=entry["expr"],
                        contexts=entry.get("contexts") or {},
                        result=entry.get("result"),
                        error=entry.get("err"),
                        skip=tuple(entry.get("options", {}).get("skip", ())),
                    )
                )
    return cases


def kind_of(value: Any) -> str:
    return _KINDS.get(type(value), f"unexpected {type(value).__name__}")


def same_value(actual: Any, expected: Any) -> bool:
    """Equal in kind and value at every level (so ``True`` is not ``1``, and NaN is NaN)."""
    if kind_of(actual) != kind_of(expected):
        return False
    if isinstance(actual, list):
        return len(actual) == len(expected) and all(
            same_value(a, e) for a, e in zip(actual, expected, strict=True)
        )
    if isinstance(actual, dict):
        return actual.keys() == expected.keys() and all(
            same_value(actual[key], expected[key]) for key in actual
        )
    if isinstance(actual, float) and math.isnan(actual):
        return isinstance(expected, float) and math.isnan(expected)
    return bool(actual == expected)


def check(case: Case) -> str | None:
    """None when the case passes, else what went wrong."""
    try:
        actual = expressions.evaluate(case.expression, case.contexts)
    except expressions.ExpressionError as error:
        if case.error is None:
            return f"unexpected {error.kind} error: {error.message}"
        if error.kind != case.error["kind"]:
            return f"expected a {case.error['kind']} error, got {error.kind}: {error.message}"
        if case.error["value"] not in error.message:
            return f"expected the message to contain {case.error['value']!r}, got {error.message!r}"
        return None
    if case.error is not None:
        return f"expected a {case.error['kind']} error, got {actual!r}"
    assert case.result is not None
    if kind_of(actual) != case.result["kind"]:
        return f"expected a {case.result['kind']}, got {kind_of(actual)} {actual!r}"
    if not same_value(actual, case.result["value"]):
        return f"expected {case.result['value']!r}, got {actual!r}"
    return None
