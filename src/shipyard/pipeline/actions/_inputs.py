"""Reading a built-in action's ``with:`` inputs the way GitHub's ``@actions/core`` reads them.

Booleans accept exactly the YAML 1.2 core-schema words GitHub accepts, multi-line inputs drop
blank lines, numbers are whole numbers. A malformed input fails the step with a message naming
the input and what it accepts. Pure: no I/O.
"""

from __future__ import annotations

from shipyard.pipeline.actions import interface

_TRUE = ("true", "True", "TRUE")
_FALSE = ("false", "False", "FALSE")


def boolean(call: interface.ActionCall, name: str, default: bool) -> bool:
    """A boolean input; ``default`` when unset."""
    raw = call.input(name).strip()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise interface.ActionFailed(
        f"input `{name}` must be a boolean, got {raw!r}",
        hint="use true or false (GitHub accepts true, True, TRUE, false, False, FALSE)",
    )


def lines(call: interface.ActionCall, name: str) -> list[str]:
    """A multi-line input as its non-blank lines, each stripped."""
    return [line.strip() for line in call.input(name).splitlines() if line.strip()]


def integer(call: interface.ActionCall, name: str, default: int | None) -> int | None:
    """A whole-number input; ``default`` when unset."""
    raw = call.input(name).strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise interface.ActionFailed(
            f"input `{name}` must be a whole number, got {raw!r}"
        ) from None
