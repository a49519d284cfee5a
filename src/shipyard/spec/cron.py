"""Cron expressions as ``on.schedule`` accepts them: five POSIX fields. Pure: no I/O.

``minute hour day-of-month month day-of-week``, each ``*``, a number or name, a range ``a-b``, a
step ``x/n`` and comma-separated lists of those. GitHub rejects the ``@daily`` shorthands and
counts Sunday as 0, so this module does too. It only checks; computing run times belongs to the
scheduler.
"""

from __future__ import annotations

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")

FIELDS_HINT = (
    "the five fields are minute (0-59), hour (0-23), day of the month (1-31), "
    "month (1-12 or JAN-DEC) and day of the week (0-6 or SUN-SAT)"
)


class _Field:
    """One of the five fields: its name, its range and the names it accepts for numbers."""

    __slots__ = ("high", "low", "name", "names")

    def __init__(self, name: str, low: int, high: int, names: dict[str, int]) -> None:
        self.name = name
        self.low = low
        self.high = high
        self.names = names


_FIELDS = (
    _Field("minute", 0, 59, {}),
    _Field("hour", 0, 23, {}),
    _Field("day of the month", 1, 31, {}),
    _Field("month", 1, 12, {name: number for number, name in enumerate(_MONTHS, start=1)}),
    _Field("day of the week", 0, 6, {name: number for number, name in enumerate(_DAYS)}),
)


class CronError(ValueError):
    """Why a cron expression is invalid, in one sentence."""


def check(expression: str) -> None:
    """Raise ``CronError`` saying what is wrong with ``expression``; return when it is valid."""
    parts = expression.split()
    if len(parts) == 1 and parts[0].startswith("@"):
        raise CronError(f"`{parts[0]}` is not supported; write the five fields instead")
    if len(parts) != len(_FIELDS):
        raise CronError(f"expected 5 fields, found {len(parts)}")
    for part, field in zip(parts, _FIELDS, strict=True):
        for item in part.split(","):
            _check_item(item, field)


def _check_item(item: str, field: _Field) -> None:
    if not item:
        raise CronError(f"the {field.name} field has an empty list item")
    base, slash, step = item.partition("/")
    if slash:
        if not _is_number(step) or int(step) == 0:
            raise CronError(
                f"the step `/{step}` in the {field.name} field must be a number above 0"
            )
        if int(step) > field.high:
            raise CronError(
                f"the step `/{step}` in the {field.name} field is larger than {field.high}"
            )
    if base == "*":
        return
    start, dash, end = base.partition("-")
    if dash and not (start and end):
        raise CronError(f"`{base}` is not a valid {field.name}")
    first = _value(start, field)
    if dash:
        last = _value(end, field)
        if last < first:
            raise CronError(f"the range `{base}` in the {field.name} field runs backwards")


def _value(text: str, field: _Field) -> int:
    lowered = text.lower()
    if lowered in field.names:
        return field.names[lowered]
    if not _is_number(text):
        raise CronError(f"`{text}` is not a valid {field.name}")
    number = int(text)
    if not field.low <= number <= field.high:
        raise CronError(f"{field.name} {number} is out of range ({field.low}-{field.high})")
    return number


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()
