"""``if:`` conditions: bare or in ``${{ }}``, the implicit ``success() &&`` and truthiness."""

from __future__ import annotations

import pytest

from shipyard import expressions

CONTEXTS = {"github": {"ref": "refs/heads/main", "event_name": "push"}, "env": {"DEPLOY": ""}}


class Status:
    """The answers of the status functions, and which were asked."""

    def __init__(self, **answers: bool) -> None:
        self.answers = {"success": True, "failure": False, "cancelled": False, "always": True}
        self.answers.update(answers)
        self.asked: list[str] = []

    def __call__(self, name: str) -> bool:
        self.asked.append(name)
        return self.answers[name]

    @property
    def hooks(self) -> expressions.EvaluationHooks:
        return expressions.EvaluationHooks(status=self)


@pytest.mark.parametrize(
    "condition",
    [
        "github.ref == 'refs/heads/main'",
        "${{ github.ref == 'refs/heads/main' }}",
        "  ${{ github.event_name == 'push' }}  ",
        "github.event_name",
    ],
)
def test_a_condition_with_or_without_braces(condition: str) -> None:
    assert expressions.evaluate_condition(condition, CONTEXTS, hooks=Status().hooks) is True


def test_truthiness_decides() -> None:
    status = Status()
    assert expressions.evaluate_condition("env.DEPLOY", CONTEXTS, hooks=status.hooks) is False
    assert expressions.evaluate_condition("'false'", CONTEXTS, hooks=status.hooks) is True
    assert expressions.evaluate_condition("fromJSON('[]')", CONTEXTS, hooks=status.hooks) is True


def test_an_empty_condition_means_success() -> None:
    assert expressions.evaluate_condition("", {}, hooks=Status().hooks) is True
    assert expressions.evaluate_condition("  ", {}, hooks=Status(success=False).hooks) is False


def test_without_a_status_function_success_must_hold_too() -> None:
    status = Status(success=False)
    assert expressions.evaluate_condition("true", CONTEXTS, hooks=status.hooks) is False
    assert status.asked == ["success"]


def test_a_status_function_replaces_the_implicit_success() -> None:
    failed = Status(success=False, failure=True)
    assert expressions.evaluate_condition("failure()", CONTEXTS, hooks=failed.hooks) is True
    assert failed.asked == ["failure"]
    always = Status(success=False)
    condition = "${{ always() && github.ref == 'refs/heads/main' }}"
    assert expressions.evaluate_condition(condition, CONTEXTS, hooks=always.hooks) is True
    assert always.asked == ["always"]
    cancelled = Status(success=False)
    assert expressions.evaluate_condition("Cancelled()", {}, hooks=cancelled.hooks) is False


def test_text_around_an_expression_makes_a_string_that_is_true() -> None:
    # GitHub's well-known trap: this is format('{0} == ''refs/heads/nope''', github.ref).
    condition = "${{ github.ref }} == 'refs/heads/nope'"
    assert expressions.evaluate_condition(condition, CONTEXTS, hooks=Status().hooks) is True


def test_an_unknown_context_is_an_error_even_when_success_is_false() -> None:
    with pytest.raises(expressions.ExpressionError) as caught:
        expressions.evaluate_condition(
            "matrix.os == 'x'", CONTEXTS, hooks=Status(success=False).hooks
        )
    assert caught.value.message == (
        "Unrecognized named-value: 'matrix'. Located at position 1 within expression: "
        "matrix.os == 'x'"
    )
    assert caught.value.hint == "valid contexts: `env`, `github`"


def test_the_status_hook_is_required() -> None:
    with pytest.raises(expressions.ExpressionError) as caught:
        expressions.evaluate_condition("true", {}, hooks=expressions.EvaluationHooks())
    assert caught.value.kind == "evaluation"
    assert caught.value.message.startswith("success() is not available here")
