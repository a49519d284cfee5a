"""flagd's targeting: JsonLogic plus ``fractional``, ``sem_ver``, ``starts_with`` and
``ends_with``, compiled once per flag. Pure: no I/O.

``compile_targeting`` refuses what flagd's schema refuses (an unknown operator, a fractional
weight that is not a whole number >= 0, a literal that is not a version, an unknown
``$flagd`` property) with the JSON pointer of the part. At evaluation time the operators behave
as flagd's do: a fractional that cannot bucket (a bucketing expression that gives no string, a
total weight of zero) and a ``sem_ver``, ``starts_with`` or ``ends_with`` given something that is
not a version or a string give ``null``, so the flag falls back to its default variant.

Fractional bucketing is flagd's: MurmurHash3 (x86, 32-bit, seed 0) of the bucketing string read
as an unsigned integer ``h``, then ``(h * total_weight) >> 32`` walked through the cumulative
weights. The bucketing string defaults to the flag key followed by the targeting key (empty when
the context has none).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import mmh3

from shipyard.flags import jsonlogic, semver
from shipyard.flags.jsonlogic import Compiler, Rule, RuleError, constant

MAX_TOTAL_WEIGHT = 2**31 - 1
FLAGD = "$flagd"
FLAGD_PROPERTIES = frozenset({"flagKey", "timestamp"})


def bucket(key: str, weights: Sequence[int]) -> int | None:
    """The index of the bucket ``key`` falls in, or None when the weights give no bucket."""
    total = sum(weights)
    if total <= 0 or total > MAX_TOTAL_WEIGHT:
        return None
    point = (mmh3.hash(key, 0, signed=False) * total) >> 32
    end = 0
    for index, weight in enumerate(weights):
        end += weight
        if point < end:
            return index
    return None


def _literal_weight(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _fractional(compiler: Compiler, args: list[Any], pointer: str) -> Rule:
    if not args:
        raise RuleError(pointer, "`fractional` needs at least one [variant, weight] bucket")
    first = args[0]
    if isinstance(first, list):
        seed: Rule | None = None
        entries = list(enumerate(args))
    elif isinstance(first, dict):
        seed = compiler.compile(first, f"{pointer}/0")
        entries = list(enumerate(args))[1:]
    else:
        raise RuleError(
            f"{pointer}/0",
            "the bucketing value must be an expression such as "
            '{"cat": [{"var": "$flagd.flagKey"}, {"var": "email"}]}, or left out',
        )
    if not entries:
        raise RuleError(pointer, "`fractional` needs at least one [variant, weight] bucket")
    variants: list[Rule] = []
    weights: list[Rule] = []
    for index, entry in entries:
        where = f"{pointer}/{index}"
        if not isinstance(entry, list) or not 1 <= len(entry) <= 2:
            raise RuleError(where, "a bucket is [variant] or [variant, weight]")
        variants.append(compiler.compile(entry[0], f"{where}/0"))
        if len(entry) == 1:
            weights.append(constant(1))
        elif isinstance(entry[1], dict):
            weights.append(compiler.compile(entry[1], f"{where}/1"))
        elif _literal_weight(entry[1]):
            weights.append(constant(entry[1]))
        else:
            raise RuleError(f"{where}/1", "a weight is a whole number >= 0 or an expression")
    static = (
        [w(None) for w in weights] if all(getattr(w, "constant", False) for w in weights) else None
    )
    if static is not None and sum(static) > MAX_TOTAL_WEIGHT:
        raise RuleError(pointer, f"the weights add up to more than {MAX_TOTAL_WEIGHT}")

    def rule(data: Any) -> Any:
        key = seed(data) if seed is not None else _default_key(data)
        if not isinstance(key, str):
            return None
        amounts = static if static is not None else _weights(weights, data)
        if amounts is None:
            return None
        chosen = bucket(key, amounts)
        if chosen is None:
            return None
        value = variants[chosen](data)
        return None if isinstance(value, dict | list) else value

    return rule


def _weights(rules: list[Rule], data: Any) -> list[int] | None:
    amounts = []
    for rule in rules:
        value = rule(data)
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            return None
        amounts.append(max(0, int(value)) if abs(value) < 2**63 else (0 if value < 0 else 2**63))
    return amounts


def _default_key(data: Any) -> str:
    if not isinstance(data, dict):
        return ""
    targeting_key = data.get("targetingKey")
    flagd = data.get(FLAGD)
    flag_key = flagd.get("flagKey", "") if isinstance(flagd, dict) else ""
    return (flag_key if isinstance(flag_key, str) else "") + (
        targeting_key if isinstance(targeting_key, str) else ""
    )


def _sem_ver(compiler: Compiler, args: list[Any], pointer: str) -> Rule:
    if len(args) != 3:
        raise RuleError(pointer, "`sem_ver` takes [version, operator, version]")
    operator = args[1]
    if not isinstance(operator, dict) and not (
        isinstance(operator, str) and operator in semver.OPERATORS
    ):
        raise RuleError(
            f"{pointer}/1",
            f"unknown `sem_ver` operator {args[1]!r}; use one of "
            + ", ".join(sorted(semver.OPERATORS)),
        )
    for index in (0, 2):
        if isinstance(args[index], str) and semver.parse(args[index]) is None:
            raise RuleError(f"{pointer}/{index}", f"{args[index]!r} is not a semantic version")
        if not isinstance(args[index], str | dict):
            raise RuleError(f"{pointer}/{index}", "a version is a string or an expression")
    actual, operator, target = compiler.compile_args(args, pointer)
    return lambda data: semver.matches(actual(data), operator(data), target(data))


def _string_test(name: str, test: Callable[[str, str], bool]) -> jsonlogic.Builder:
    def build(compiler: Compiler, args: list[Any], pointer: str) -> Rule:
        if len(args) != 2:
            raise RuleError(pointer, f"`{name}` takes [value, text]")
        for index, arg in enumerate(args):
            if not isinstance(arg, str | dict):
                raise RuleError(f"{pointer}/{index}", f"`{name}` compares strings")
        value, text = compiler.compile_args(args, pointer)

        def rule(data: Any) -> bool | None:
            a, b = value(data), text(data)
            return test(a, b) if isinstance(a, str) and isinstance(b, str) else None

        return rule

    return build


def _checked_var(compiler: Compiler, args: list[Any], pointer: str) -> Rule:
    path = args[0] if args else None
    prefix = FLAGD + "."
    if (
        isinstance(path, str)
        and path.startswith(prefix)
        and path[len(prefix) :] not in FLAGD_PROPERTIES
    ):
        raise RuleError(
            f"{pointer}/0",
            f"unknown flagd property `{path}`; flagd sets $flagd.flagKey and $flagd.timestamp",
        )
    return jsonlogic.STANDARD["var"](compiler, args, pointer)


COMPILER = Compiler(
    {
        "var": _checked_var,
        "fractional": _fractional,
        "sem_ver": _sem_ver,
        "starts_with": _string_test("starts_with", str.startswith),
        "ends_with": _string_test("ends_with", str.endswith),
    }
)


def resolve_references(
    logic: Any, evaluators: dict[str, Any], pointer: str = "", seen: tuple[str, ...] = ()
) -> Any:
    """``{"$ref": "name"}`` replaced by the shared rule from ``$evaluators`` (whose own ``$ref``s
    are resolved too; a rule that refers back to itself is refused)."""
    if isinstance(logic, list):
        return [
            resolve_references(item, evaluators, f"{pointer}/{i}", seen)
            for i, item in enumerate(logic)
        ]
    if isinstance(logic, dict):
        if set(logic) == {"$ref"}:
            name = logic["$ref"]
            if not isinstance(name, str) or name not in evaluators:
                known = ", ".join(sorted(evaluators)) or "none are defined"
                raise RuleError(pointer, f"unknown evaluator {name!r} in $ref (known: {known})")
            if name in seen:
                chain = " -> ".join((*seen, name))
                raise RuleError(pointer, f"the evaluators refer to each other in a loop: {chain}")
            return resolve_references(evaluators[name], evaluators, pointer, (*seen, name))
        return {
            key: resolve_references(value, evaluators, f"{pointer}/{jsonlogic.escape(key)}", seen)
            for key, value in logic.items()
        }
    return logic


def compile_targeting(
    logic: Any, evaluators: dict[str, Any] | None = None
) -> tuple[Rule, dict[str, Any]] | None:
    """The compiled rule and the rule with ``$ref`` inlined, or None for no targeting (absent
    or ``{}``)."""
    if logic is None or logic == {}:
        return None
    if not isinstance(logic, dict):
        raise RuleError("", "targeting must be a JsonLogic object")
    try:
        resolved = resolve_references(logic, evaluators or {})
        return COMPILER.compile(resolved), resolved
    except RecursionError:
        raise RuleError("", "the rule is nested too deeply") from None
