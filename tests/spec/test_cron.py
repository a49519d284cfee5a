"""Cron expressions as `on.schedule` accepts them."""

from __future__ import annotations

import pytest

from shipyard.spec import cron


@pytest.mark.parametrize(
    "expression",
    [
        "* * * * *",
        "0 3 * * *",
        "*/15 * * * *",
        "0 0-23/2 * * *",
        "5,35 9-17 * * 1-5",
        "0 12 1,15 * *",
        "0 0 1 JAN,jul *",
        "0 0 * * SUN-sat",
        "59 23 31 12 6",
        "0  3  *  *  *",
        "1-5/2 * * * *",
    ],
)
def test_valid(expression: str) -> None:
    cron.check(expression)


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("", "expected 5 fields, found 0"),
        ("* * * *", "expected 5 fields, found 4"),
        ("* * * * * *", "expected 5 fields, found 6"),
        ("@daily", "`@daily` is not supported; write the five fields instead"),
        ("60 * * * *", "minute 60 is out of range (0-59)"),
        ("* 24 * * *", "hour 24 is out of range (0-23)"),
        ("* * 0 * *", "day of the month 0 is out of range (1-31)"),
        ("* * 32 * *", "day of the month 32 is out of range (1-31)"),
        ("* * * 13 *", "month 13 is out of range (1-12)"),
        ("* * * * 7", "day of the week 7 is out of range (0-6)"),
        ("* * * JANUARY *", "`JANUARY` is not a valid month"),
        ("* * * * MON-FOO", "`FOO` is not a valid day of the week"),
        ("MON * * * *", "`MON` is not a valid minute"),
        ("5-1 * * * *", "the range `5-1` in the minute field runs backwards"),
        ("*/0 * * * *", "the step `/0` in the minute field must be a number above 0"),
        ("*/a * * * *", "the step `/a` in the minute field must be a number above 0"),
        ("*/61 * * * *", "the step `/61` in the minute field is larger than 59"),
        ("1,,2 * * * *", "the minute field has an empty list item"),
        ("-1 * * * *", "`-1` is not a valid minute"),
        ("1- * * * *", "`1-` is not a valid minute"),
        ("² * * * *", "`²` is not a valid minute"),
        ("1/2/3 * * * *", "the step `/2/3` in the minute field must be a number above 0"),
    ],
)
def test_invalid(expression: str, problem: str) -> None:
    with pytest.raises(cron.CronError) as caught:
        cron.check(expression)
    assert str(caught.value) == problem
