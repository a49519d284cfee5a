"""JsonLogic compiled to Python closures, once, when flags are loaded. Pure: no I/O.

A rule is turned into a tree of small functions of the evaluation data, so evaluating a flag
walks no dicts and looks up no operator names. Shapes that can never work (an unknown operator,
an object that is not a rule) are refused here with the JSON pointer of the offending part;
values that only turn out wrong at evaluation time follow JsonLogic's coercions instead
(``shipyard.flags.coercion``). flagd's own operators are added by ``shipyard.flags.targeting``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from shipyard.flags import coercion

Rule = Callable[[Any], Any]
"""A compiled rule: evaluation data in, value out."""


class RuleError(Exception):
    """A rule that cannot be compiled; ``pointer`` is its JSON pointer inside the targeting."""

    def __init__(self, pointer: str, reason: str) -> None:
        super().__init__(reason)
        self.pointer = pointer
        self.reason = reason


class Compiler:
    """Compiles rules with the standard operators plus ``extra`` (name -> builder)."""

    def __init__(self, extra: Mapping[str, Builder] | None = None) -> None:
        self.builders: dict[str, Builder] = {**STANDARD, **(extra or {})}

    def compile(self, logic: Any, pointer: str = "") -> Rule:
        if isinstance(logic, list):
            items = [self.compile(item, f"{pointer}/{i}") for i, item in enumerate(logic)]
            if all(getattr(item, "constant", False) for item in items):
                return constant([item(None) for item in items])
            return lambda data: [item(data) for item in items]
        if not isinstance(logic, dict):
            return constant(logic)
        if len(logic) != 1:
            raise RuleError(pointer, "an object in a rule must have exactly one key, the operator")
        ((name, raw),) = logic.items()
        builder = self.builders.get(name)
        if builder is None:
            raise RuleError(pointer, f"unknown operator `{name}`")
        args = raw if isinstance(raw, list) else [raw]
        return builder(self, args, f"{pointer}/{escape(name)}")

    def compile_args(self, args: Sequence[Any], pointer: str) -> list[Rule]:
        return [self.compile(arg, f"{pointer}/{i}") for i, arg in enumerate(args)]


Builder = Callable[[Compiler, list[Any], str], Rule]


def escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def constant(value: Any) -> Rule:
    def rule(data: Any) -> Any:
        return value

    rule.constant = True  # type: ignore[attr-defined]
    return rule


# -- data access --


def lookup(data: Any, parts: Sequence[str], default: Any = None) -> Any:
    """The value at a dotted path (already split), or ``default`` when absent or null."""
    current = data
    for part in parts:
        if isinstance(current, dict):
            if part not in current:
                return default
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return default
    return default if current is None else current


def _split(path: Any) -> list[str]:
    text = coercion.to_string(path) if not isinstance(path, str) else path
    return [] if text == "" else text.split(".")


def _var(compiler: Compiler, args: list[Any], pointer: str) -> Rule:
    if not args:
        return lambda data: data
    path_rule = compiler.compile(args[0], f"{pointer}/0")
    default_rule = compiler.compile(args[1], f"{pointer}/1") if len(args) > 1 else constant(None)
    if getattr(path_rule, "constant", False) and getattr(default_rule, "constant", False):
        parts = _split(path_rule(None))
        default = default_rule(None)
        if not parts:
            return lambda data: data
        if len(parts) == 1:
            (key,) = parts

            def single(data: Any) -> Any:
                if isinstance(data, dict):
                    value = data.get(key)
                    return default if value is None else value
                return lookup(data, parts, default)

            return single
        return lambda data: lookup(data, parts, default)
    return lambda data: lookup(data, _split(path_rule(data)), default_rule(data))


def _missing_keys(data: Any, keys: Any) -> list[Any]:
    if not isinstance(keys, list):
        keys = [keys]
    return [key for key in keys if lookup(data, _split(key), None) in (None, "")]


def _missing(compiler: Compiler, args: list[Any], pointer: str) -> Rule:
    rules = compiler.compile_args(args, pointer)

    def rule(data: Any) -> Any:
        values = [item(data) for item in rules]
        keys = values[0] if values and isinstance(values[0], list) else values
        return _missing_keys(data, keys)

    return rule


def _missing_some(compiler: Compiler, args: list[Any], pointer: str) -> Rule:
    rules = compiler.compile_args(args, pointer)

    def rule(data: Any) -> Any:
        values = [item(data) for item in rules]
        need = coercion.to_number(values[0]) if values else 0
        keys = values[1] if len(values) > 1 and isinstance(values[1], list) else []
        missing = _missing_keys(data, keys)
        return [] if len(keys) - len(missing) >= need else missing

    return rule


# -- logic --


def _if(compiler: Compiler, args: list[Any], pointer: str) -> Rule:
    rules = compiler.compile_args(args, pointer)
    pairs = [(rules[i], rules[i + 1]) for i in range(0, len(rules) - 1, 2)]
    otherwise = rules[-1] if len(rules) % 2 == 1 else constant(None)
    truthy = coercion.truthy

    def rule(data: Any) -> Any:
        for condition, then in pairs:
            if truthy(condition(data)):
                return then(data)
        return otherwise(data)

    return rule


def _and(compiler: Compiler, args: list[Any], pointer: str) -> Rule:
    rules = compiler.compile_args(args, pointer)

    def rule(data: Any) -> Any:
        value = None
        for item in rules:
            value = item(data)
            if not coercion.truthy(value):
                return value
        return value

    return rule


def _or(compiler: Compiler, args: list[Any], pointer: str) -> Rule:
    rules = compiler.compile_args(args, pointer)

    def rule(data: Any) -> Any:
        value = None
        for item in rules:
            value = item(data)
            if coercion.truthy(value):
                return value
        return value

    return rule


def _unary(function: Callable[[Any], Any]) -> Builder:
    def build(compiler: Compiler, args: list[Any], pointer: str) -> Rule:
        first = compiler.compile(args[0], f"{pointer}/0") if args else constant(None)
        return lambda data: function(first(data))

    return build


def _binary(function: Callable[[Any, Any], Any]) -> Builder:
    def build(compiler: Compiler, args: list[Any], pointer: str) -> Rule:
        rules = compiler.compile_args(args, pointer)
        left = rules[0] if rules else constant(None)
        right = rules[1] if len(rules) > 1 else constant(None)
        return lambda data: function(left(data), right(data))

    return build


def _ordering(accept: Callable[[int], bool]) -> Builder:
    def test(a: Any, b: Any) -> bool:
        order = coercion.compare(a, b)
        return order is not None and accept(order)

    def build(compiler: Compiler, args: list[Any], pointer: str) -> Rule:
        rules = compiler.compile_args(args, pointer)
        while len(rules) < 2:
            rules.append(constant(None))
        if len(rules) >= 3:  # between: a < b < c
            a, b, c = rules[:3]
            return lambda data: test(a(data), (middle := b(data))) and test(middle, c(data))
        left, right = rules
        return lambda data: test(left(data), right(data))

    return build


# -- numbers --


def _numbers(values: list[Any]) -> list[float | int]:
    return [coercion.to_number(value) for value in values]


def _variadic(function: Callable[[list[Any]], Any]) -> Builder:
    def build(compiler: Compiler, args: list[Any], pointer: str) -> Rule:
        rules = compiler.compile_args(args, pointer)
        return lambda data: function([item(data) for item in rules])

    return build


def _plus(values: list[Any]) -> Any:
    return coercion.to_json_number(math.fsum(_numbers(values))) if values else 0


def _times(values: list[Any]) -> Any:
    return coercion.to_json_number(math.prod(_numbers(values))) if values else None


def _minus(values: list[Any]) -> Any:
    numbers = _numbers(values)
    if not numbers:
        return None
    if len(numbers) == 1:
        return coercion.to_json_number(-numbers[0])
    return coercion.to_json_number(numbers[0] - numbers[1])


def _divide(a: Any, b: Any) -> Any:
    x, y = coercion.to_number(a), coercion.to_number(b)
    if y == 0:
        return coercion.NAN if x == 0 or math.isnan(x) else math.copysign(math.inf, x)
    return coercion.to_json_number(x / y)


def _modulo(a: Any, b: Any) -> Any:
    x, y = coercion.to_number(a), coercion.to_number(b)
    if y == 0 or math.isinf(x) or math.isnan(x) or math.isnan(y):
        return coercion.NAN
    return coercion.to_json_number(math.fmod(x, y))


def _extreme(pick: Callable[[list[float | int]], float | int]) -> Callable[[list[Any]], Any]:
    def function(values: list[Any]) -> Any:
        numbers = _numbers(values)
        if not numbers:
            return None
        if any(math.isnan(n) for n in numbers):
            return coercion.NAN
        return pick(numbers)

    return function


# -- strings and arrays --


def _cat(values: list[Any]) -> str:
    return "".join("" if value is None else coercion.to_string(value) for value in values)


def _substr(values: list[Any]) -> str:
    text = coercion.to_string(values[0]) if values else "undefined"
    start = int(coercion.to_number(values[1])) if len(values) > 1 else 0
    if start < 0:
        start = max(len(text) + start, 0)
    rest = text[start:]
    if len(values) > 2:
        length = int(coercion.to_number(values[2]))
        return rest[: len(rest) + length] if length < 0 else rest[:length]
    return rest


def _in(needle: Any, haystack: Any) -> bool:
    if isinstance(haystack, str):
        return coercion.to_string(needle) in haystack
    if isinstance(haystack, list):
        return any(coercion.strict_equal(needle, item) for item in haystack)
    return False


def _merge(values: list[Any]) -> list[Any]:
    merged: list[Any] = []
    for value in values:
        if isinstance(value, list):
            merged.extend(value)
        else:
            merged.append(value)
    return merged


def _over_array(finish: Callable[[Rule, list[Any], Any], Any]) -> Builder:
    """map, filter, all, none, some: the second argument runs with each element as its data."""

    def build(compiler: Compiler, args: list[Any], pointer: str) -> Rule:
        source = compiler.compile(args[0], f"{pointer}/0") if args else constant([])
        each = compiler.compile(args[1], f"{pointer}/1") if len(args) > 1 else constant(None)

        def rule(data: Any) -> Any:
            items = source(data)
            return finish(each, items if isinstance(items, list) else [], data)

        return rule

    return build


def _reduce(compiler: Compiler, args: list[Any], pointer: str) -> Rule:
    source = compiler.compile(args[0], f"{pointer}/0") if args else constant([])
    each = compiler.compile(args[1], f"{pointer}/1") if len(args) > 1 else constant(None)
    initial = compiler.compile(args[2], f"{pointer}/2") if len(args) > 2 else constant(None)

    def rule(data: Any) -> Any:
        items = source(data)
        accumulator = initial(data)
        for item in items if isinstance(items, list) else []:
            accumulator = each({"current": item, "accumulator": accumulator})
        return accumulator

    return rule


STANDARD: dict[str, Builder] = {
    "var": _var,
    "missing": _missing,
    "missing_some": _missing_some,
    "if": _if,
    "?:": _if,
    "and": _and,
    "or": _or,
    "!": _unary(lambda value: not coercion.truthy(value)),
    "!!": _unary(coercion.truthy),
    "==": _binary(coercion.loose_equal),
    "!=": _binary(lambda a, b: not coercion.loose_equal(a, b)),
    "===": _binary(coercion.strict_equal),
    "!==": _binary(lambda a, b: not coercion.strict_equal(a, b)),
    "<": _ordering(lambda order: order < 0),
    "<=": _ordering(lambda order: order <= 0),
    ">": _ordering(lambda order: order > 0),
    ">=": _ordering(lambda order: order >= 0),
    "+": _variadic(_plus),
    "*": _variadic(_times),
    "-": _variadic(_minus),
    "/": _binary(_divide),
    "%": _binary(_modulo),
    "max": _variadic(_extreme(max)),
    "min": _variadic(_extreme(min)),
    "cat": _variadic(_cat),
    "substr": _variadic(_substr),
    "in": _binary(_in),
    "merge": _variadic(_merge),
    "map": _over_array(lambda each, items, data: [each(item) for item in items]),
    "filter": _over_array(
        lambda each, items, data: [item for item in items if coercion.truthy(each(item))]
    ),
    "all": _over_array(
        lambda each, items, data: bool(items) and all(coercion.truthy(each(i)) for i in items)
    ),
    "some": _over_array(lambda each, items, data: any(coercion.truthy(each(i)) for i in items)),
    "none": _over_array(lambda each, items, data: not any(coercion.truthy(each(i)) for i in items)),
    "reduce": _reduce,
}
