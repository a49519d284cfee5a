"""JsonLogic as flagd runs it, operator by operator, and flagd's sem_ver and string operators."""

from __future__ import annotations

from typing import Any

import pytest

from shipyard.flags import jsonlogic, semver, targeting

DATA = {"a": 1, "s": "abc", "user": {"name": "ann", "tags": ["x", "y"]}, "n": None,
        "integers": [1, 2, 3, 4], "pies": [{"filling": "apple"}, {"filling": "pear"}]}  # fmt: skip

CASES: list[tuple[Any, Any]] = [
    ({"var": "a"}, 1), ({"var": "user.name"}, "ann"), ({"var": "user.tags.1"}, "y"),
    ({"var": ["missing", "dflt"]}, "dflt"), ({"var": ["n", 5]}, 5), ({"var": "nope"}, None),
    ({"missing": ["a", "b", "n"]}, ["b", "n"]), ({"missing_some": [1, ["a", "b"]]}, []),
    ({"missing_some": [2, ["a", "b", "c"]]}, ["b", "c"]),
    ({"if": [True, "yes", "no"]}, "yes"), ({"if": [False, "yes"]}, None), ({"if": [[], 1, 2]}, 2),
    ({"if": [False, "a", False, "b", "c"]}, "c"), ({"if": [0]}, 0), ({"?:": [1, "t", "f"]}, "t"),
    ({"==": [1, "1"]}, True), ({"==": [0, False]}, True), ({"==": [None, 0]}, False),
    ({"===": [1, "1"]}, False), ({"===": [1, 1.0]}, True), ({"!=": ["a", "b"]}, True),
    ({"!==": [1, 1]}, False), ({"!": [[]]}, True), ({"!": "0"}, False), ({"!!": ["0"]}, True),
    ({"or": [False, 0, "a"]}, "a"), ({"or": [False, 0]}, 0), ({"and": [True, "a", 3]}, 3),
    ({"and": [1, "", 2]}, ""), ({">": [2, 1]}, True), ({"<": ["2", 10]}, True),
    ({"<": ["b", "a"]}, False), ({"<": [1, 2, 3]}, True), ({"<": [1, 4, 3]}, False),
    ({"<=": [1, 1, 3]}, True), ({">=": ["x", 1]}, False), ({"+": [4, 2]}, 6),
    ({"+": ["3.14"]}, 3.14), ({"+": [1, 2.5]}, 3.5), ({"-": [2]}, -2), ({"-": [4, 2]}, 2),
    ({"*": [2, 2, 2]}, 8), ({"/": [4, 2]}, 2), ({"/": [1, 4]}, 0.25), ({"%": [101, 2]}, 1),
    ({"%": [-7, 3]}, -1), ({"max": [1, 3, 2]}, 3), ({"min": [1, 3, 2]}, 1),
    ({"cat": ["I love", " pie", 1, None, True]}, "I love pie1true"),
    ({"substr": ["jsonlogic", 4]}, "logic"), ({"substr": ["jsonlogic", -5]}, "logic"),
    ({"substr": ["jsonlogic", 1, 3]}, "son"), ({"substr": ["jsonlogic", 4, -2]}, "log"),
    ({"in": ["Spring", "Springfield"]}, True), ({"in": ["Ringo", ["John", "Ringo"]]}, True),
    ({"in": [1, ["1"]]}, False), ({"merge": [[1, 2], 3, [4]]}, [1, 2, 3, 4]),
    ({"map": [{"var": "integers"}, {"*": [{"var": ""}, 2]}]}, [2, 4, 6, 8]),
    ({"filter": [{"var": "integers"}, {"%": [{"var": ""}, 2]}]}, [1, 3]),
    ({"reduce": [{"var": "integers"}, {"+": [{"var": "current"}, {"var": "accumulator"}]}, 0]},
     10),
    ({"all": [[1, 2, 3], {">": [{"var": ""}, 0]}]}, True), ({"all": [[], True]}, False),
    ({"some": [{"var": "pies"}, {"==": [{"var": "filling"}, "apple"]}]}, True),
    ({"none": [[-3, -2, -1], {">": [{"var": ""}, 0]}]}, True),
    ({"starts_with": [{"var": "s"}, "ab"]}, True), ({"ends_with": [{"var": "s"}, "bc"]}, True),
    ({"starts_with": [{"var": "a"}, "1"]}, None), ({"ends_with": [{"var": "nope"}, "c"]}, None),
    ({"starts_with": [{"var": "s"}, "b"]}, False),
    ({"var": "$flagd.flagKey"}, "my-flag"), ({"var": "$flagd.timestamp"}, 1700000000),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "expected"), CASES, ids=lambda value: str(value)[:40])
def test_operator(rule: Any, expected: Any) -> None:
    data = {**DATA, "$flagd": {"flagKey": "my-flag", "timestamp": 1700000000}}
    compiled = targeting.compile_targeting(rule)
    assert compiled is not None
    result = compiled[0](data)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(
    ("rule", "pointer", "reason"),
    [
        ({"if": [{"nope": [1]}, 1, 2]}, "/if/0", "unknown operator `nope`"),
        ({"==": [{"a": 1, "b": 2}, 1]}, "/==/0", "an object in a rule must have exactly one key"),
        ({"fractional": []}, "/fractional", "`fractional` needs at least one"),
        ({"fractional": [{"var": "e"}]}, "/fractional", "`fractional` needs at least one"),
        ({"fractional": [["a", 1, 2]]}, "/fractional/0", "a bucket is [variant]"),
        ({"fractional": [["a", 2**31], ["b", 1]]}, "/fractional", "the weights add up to more"),
        ({"sem_ver": ["1.0.0", "="]}, "/sem_ver", "`sem_ver` takes"),
        ({"sem_ver": [None, [], None]}, "/sem_ver/1", "unknown `sem_ver` operator []"),
        ({"starts_with": ["a"]}, "/starts_with", "`starts_with` takes [value, text]"),
    ],
)
def test_shapes_that_can_never_work_are_refused(rule: Any, pointer: str, reason: str) -> None:
    with pytest.raises(jsonlogic.RuleError) as raised:
        targeting.compile_targeting(rule)
    assert raised.value.pointer == pointer
    assert raised.value.reason.startswith(reason)


@pytest.mark.parametrize(
    ("actual", "operator", "target", "expected"),
    [
        ("1.2.3", "=", "1.2.3", True), ("v1.2.3", "=", "1.2.3", True),
        ("1.2.3", "!=", "1.2.4", True), ("1.2.3", "<", "1.10.0", True),
        ("1.2.3", "<=", "1.2.3", True), ("2.0.0", ">", "1.99.99", True),
        ("1.0.0", ">=", "1.0.0-rc.1", True), ("1.0.0-alpha", "<", "1.0.0-alpha.1", True),
        ("1.0.0-alpha.1", "<", "1.0.0-alpha.beta", True),
        ("1.0.0-beta.2", "<", "1.0.0-beta.11", True),
        ("1.0.0+build.1", "=", "1.0.0+build.2", True),
        ("1.2", "=", "1.2.0", True), ("v1", "=", "1.0.0", True), ("1", "<", "1.0.1", True),
        ("1.5.0", "^", "1.0.0", True), ("2.0.0", "^", "1.9.9", False),
        ("0.5.0", "^", "0.1.0", True),
        ("1.2.9", "~", "1.2.0", True), ("1.3.0", "~", "1.2.0", False),
        ("1.2-beta", "=", "1.2.0-beta", None), ("01.2.3", "=", "1.2.3", None),
        ("1.2.3.4", "=", "1.2.3", None), (123, "=", "123.0.0", None),
        ("1.0.0", "*", "1.0.0", None),
        ("1.0.0-01", "=", "1.0.0-01", None), ("", "=", "1.0.0", None),
    ],
)  # fmt: skip
def test_sem_ver_follows_flagd(
    actual: Any, operator: str, target: str, expected: bool | None
) -> None:
    assert semver.matches(actual, operator, target) is expected
