"""Every key that takes expressions is checked against GitHub's context-availability table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shipyard import expressions
from shipyard.core import errors
from shipyard.spec import workflow_expressions, workflow_loader

FULL = Path(__file__).parent / "data" / "full.yml"


def test_every_row_of_the_table_is_checked_except_containers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: set[str] = set()
    check, check_condition = workflow_expressions.check, workflow_expressions.check_condition

    def recording_check(reader: Any, value: Any, pattern: str, *rest: Any) -> None:
        seen.add(pattern)
        check(reader, value, pattern, *rest)

    def recording_condition(reader: Any, value: str, pattern: str, *rest: Any) -> None:
        seen.add(pattern)
        check_condition(reader, value, pattern, *rest)

    monkeypatch.setattr(workflow_expressions, "check", recording_check)
    monkeypatch.setattr(workflow_expressions, "check_condition", recording_condition)
    workflow_loader.load_workflow_file(FULL)
    unsupported = {
        pattern
        for pattern in expressions.AVAILABILITY
        if pattern.startswith(("jobs.<job_id>.container", "jobs.<job_id>.services"))
    }
    assert seen == set(expressions.AVAILABILITY) - unsupported


def test_an_expression_error_is_placed_at_the_value() -> None:
    with pytest.raises(errors.SpecErrors) as caught:
        workflow_loader.load_workflow(
            "on: push\njobs:\n  a:\n    runs-on: ${{ env.X }}\n    steps: [{run: x}]\n",
            path="ci.yml",
        )
    (problem,) = caught.value.errors
    assert isinstance(problem, errors.SpecError)
    assert problem.location == errors.SourceLocation("ci.yml", 4, 14)
    assert problem.key_path == "jobs.a.runs-on"
    assert problem.message == (
        "Unrecognized named-value: 'env'. Located at position 2 within expression:  env.X "
    )
    assert problem.hint is not None
    assert problem.hint.startswith("`env` is not available at `jobs.<job_id>.runs-on`")


@pytest.mark.parametrize(
    "condition",
    ["success()", "${{ failure() }}", "github.ref == 'refs/heads/main' && !cancelled()", "true"],
)
def test_conditions_with_or_without_braces(condition: str) -> None:
    text = f"on: push\njobs:\n  a:\n    if: {condition}\n    runs-on: x\n    steps: [{{run: x}}]\n"
    assert workflow_loader.load_workflow(text, path="ci.yml").jobs["a"].if_ == condition
