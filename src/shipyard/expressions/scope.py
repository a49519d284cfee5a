"""What one evaluation carries: context values, the caller's hooks and a memory budget. Pure.

The hooks are how the pure language reaches the world: the runner answers the status functions
and hashes files; without a hook those functions are an evaluation error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from shipyard.core.frozen import frozen
from shipyard.expressions import limits


@frozen
class EvaluationHooks:
    """Answers the functions that depend on where an expression runs.

    ``status`` is called with ``"success"``, ``"failure"``, ``"cancelled"`` or ``"always"`` and
    says whether that status function is true for the job or step being decided. ``hash_files`` is
    called with the patterns given to ``hashFiles()`` (each converted to a string) and returns the
    hash. A hook left as None makes the function an evaluation error ("not available here").
    """

    status: Callable[[str], bool] | None = None
    hash_files: Callable[[Sequence[str]], str] | None = None


class EvaluationFailure(Exception):
    """Raised inside a function or by the budget; the evaluator adds the expression and position."""

    def __init__(self, detail: str, hint: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.hint = hint


class Scope:
    """The state of one evaluation.

    ``values`` maps each referenced context, by lower-case name, to its value (it may be the
    caller's own mapping, and is never changed); ``memory`` counts
    the bytes of the strings the evaluation holds (see :data:`limits.MAX_MEMORY_BYTES`).
    """

    __slots__ = ("hooks", "memory", "values")

    def __init__(self, context_values: Mapping[str, Any], hooks: EvaluationHooks | None) -> None:
        self.values = context_values
        self.hooks = hooks
        self.memory = 0

    def charge(self, nbytes: int) -> None:
        """Account for ``nbytes`` more; raise EvaluationFailure past the memory limit."""
        self.memory += nbytes
        if self.memory > limits.MAX_MEMORY_BYTES:
            raise EvaluationFailure(
                "The maximum allowed memory size was exceeded while evaluating the expression",
                hint=(
                    f"strings built by one expression are limited to {limits.MAX_MEMORY_BYTES} "
                    "bytes (2 per character); build less with format, join or toJSON"
                ),
            )

    def charge_text(self, text: str) -> None:
        """Account for a string that is being built."""
        self.charge(2 * len(text))
