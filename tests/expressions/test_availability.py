"""GitHub's context availability table, applied statically to workflow values."""

from __future__ import annotations

import pytest

from shipyard import expressions
from shipyard.expressions import availability

STEP_KEYS = [
    "continue-on-error",
    "env",
    "name",
    "run",
    "timeout-minutes",
    "with",
    "working-directory",
]


def test_the_table_covers_githubs_keys() -> None:
    assert len(expressions.AVAILABILITY) == 34
    for key in ("run-name", "env", "concurrency", "jobs.<job_id>.runs-on", "jobs.<job_id>.if"):
        assert key in expressions.AVAILABILITY
    for key in STEP_KEYS:
        assert expressions.AVAILABILITY[f"jobs.<job_id>.steps.{key}"][1] == {"hashfiles"}
    contexts, special = expressions.AVAILABILITY["jobs.<job_id>.steps.if"]
    assert "secrets" not in contexts
    assert special == {"always", "cancelled", "success", "failure", "hashfiles"}
    for contexts, _ in expressions.AVAILABILITY.values():
        assert contexts <= availability.ALL_CONTEXTS


def test_an_allowed_value_passes() -> None:
    expressions.check_availability("${{ matrix.os }}-${{ vars.X }}", "jobs.<job_id>.runs-on")
    expressions.check_availability("no expressions", "jobs.<job_id>.runs-on")
    expressions.check_availability("always() && needs.a.result", "jobs.<job_id>.if")
    expressions.check_availability("${{ hashFiles('**/x') }}", "jobs.<job_id>.steps.with")
    expressions.check_availability(
        "${{ toJSON(jobs) }}", "on.workflow_call.outputs.<output_id>.value"
    )


def test_env_in_runs_on_names_the_contexts_allowed_there() -> None:
    with pytest.raises(expressions.ExpressionError) as caught:
        expressions.check_availability("${{ env.RUNNER }}", "jobs.<job_id>.runs-on")
    error = caught.value
    assert error.kind == "parsing"
    assert error.message == (
        "Unrecognized named-value: 'env'. Located at position 2 within expression:  env.RUNNER "
    )
    assert error.hint == (
        "`env` is not available at `jobs.<job_id>.runs-on`; contexts available there: "
        "`github`, `inputs`, `matrix`, `needs`, `strategy`, `vars`"
    )


def test_a_job_if_takes_a_bare_condition_and_no_matrix() -> None:
    with pytest.raises(expressions.ExpressionError) as caught:
        expressions.check_availability("matrix.os == 'linux'", "jobs.<job_id>.if")
    assert caught.value.message.startswith(
        "Unrecognized named-value: 'matrix'. Located at position 1"
    )


def test_an_unknown_context_lists_the_valid_ones() -> None:
    with pytest.raises(expressions.ExpressionError) as caught:
        expressions.check_availability("${{ gihub.sha }}", "env")
    assert caught.value.hint == (
        "did you mean `github`? valid contexts: `github`, `inputs`, `secrets`, `vars` (at `env`)"
    )


def test_special_functions_only_where_allowed() -> None:
    with pytest.raises(expressions.ExpressionError) as caught:
        expressions.check_availability("${{ hashFiles('x') }}", "jobs.<job_id>.env")
    assert caught.value.message.startswith("Unrecognized function: 'hashFiles'.")
    assert caught.value.hint == (
        "hashFiles() is not available at `jobs.<job_id>.env`; special functions available there: "
        "none"
    )
    with pytest.raises(expressions.ExpressionError) as caught:
        expressions.check_availability("${{ success() }}", "jobs.<job_id>.steps.run")
    assert caught.value.hint == (
        "success() is not available at `jobs.<job_id>.steps.run`; special functions available "
        "there: `hashFiles`"
    )


def test_concrete_keys_find_their_pattern() -> None:
    assert availability.table_key("jobs.test.steps[2].with.python-version") == (
        "jobs.<job_id>.steps.with"
    )
    assert availability.table_key("jobs.build.container.env.HOME") == (
        "jobs.<job_id>.container.env.<env_id>"
    )
    assert availability.table_key("jobs.build.container.options") == "jobs.<job_id>.container"
    assert availability.table_key("concurrency.group") == "concurrency"
    with pytest.raises(expressions.ExpressionError):
        expressions.check_availability("${{ secrets.A }}", "jobs.build.steps[0].if")


def test_a_key_without_expressions_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match=r"jobs\.build\.steps\.uses"):
        expressions.check_availability("${{ github.sha }}", "jobs.build.steps.uses")


def test_syntax_errors_are_reported_too() -> None:
    with pytest.raises(expressions.ExpressionError) as caught:
        expressions.check_availability("${{ github.sha == }}", "run-name")
    assert caught.value.message.startswith("Unexpected end of expression: '=='")
