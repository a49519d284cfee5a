"""JavaScript's value rules, as JsonLogic (and so flagd's targeting) applies them. Pure: no I/O.

JsonLogic was defined in JavaScript, so ``==`` coerces, ``"2" < 10`` compares numbers, an empty
array is false and ``cat`` writes ``1.0`` as ``1``. These helpers give Python values (decoded
JSON) the same meaning, so a rule answers what it answers in flagd.
"""

from __future__ import annotations

import math
from typing import Any

NAN = float("nan")


def truthy(value: Any) -> bool:
    """JsonLogic truthiness: JavaScript's, plus an empty array is false."""
    if value is None or value is False:
        return False
    if value is True:
        return True
    if isinstance(value, int | float):
        return value != 0 and not math.isnan(value)
    if isinstance(value, str | list):
        return len(value) > 0
    return True


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def to_number(value: Any) -> float | int:
    """JavaScript's ``Number(value)``; NaN where it has no numeric meaning."""
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, int | float):
        return value
    if value is None:
        return 0
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return 0
        try:
            return float(text) if text.lower() not in ("nan", "inf", "-inf", "+inf") else NAN
        except ValueError:
            if text in ("Infinity", "+Infinity"):
                return math.inf
            if text == "-Infinity":
                return -math.inf
            return NAN
    if isinstance(value, list):
        return to_number(to_string(value))
    return NAN


def to_string(value: Any) -> str:
    """JavaScript's ``String(value)`` (arrays joined with commas, nulls inside them empty)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, list):
        return ",".join("" if item is None else to_string(item) for item in value)
    return "[object Object]"


def _float_text(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


def strict_equal(left: Any, right: Any) -> bool:
    """``===``: same JavaScript type and value; arrays and objects only equal themselves."""
    if is_number(left) and is_number(right):
        return bool(left == right)
    if isinstance(left, list | dict) or isinstance(right, list | dict):
        return left is right
    return type(left) is type(right) and left == right


def _primitive(value: Any) -> Any:
    return to_string(value) if isinstance(value, list | dict) else value


def loose_equal(left: Any, right: Any) -> bool:
    """``==``: JavaScript's abstract equality."""
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, list | dict) and isinstance(right, list | dict):
        return left is right
    left, right = _primitive(left), _primitive(right)
    if isinstance(left, str) and isinstance(right, str):
        return left == right
    return bool(to_number(left) == to_number(right))


def compare(left: Any, right: Any) -> int | None:
    """-1, 0 or 1 as JavaScript's ``<`` would order the two; None when unordered (NaN)."""
    left, right = _primitive(left), _primitive(right)
    if isinstance(left, str) and isinstance(right, str):
        return (left > right) - (left < right)
    a, b = to_number(left), to_number(right)
    if math.isnan(a) or math.isnan(b):
        return None
    return (a > b) - (a < b)


def to_json_number(value: float | int) -> float | int:
    """An integral float as an int, so ``2.0`` names the variant ``"2"`` as in flagd."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value
