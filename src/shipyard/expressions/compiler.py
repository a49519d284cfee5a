"""Turns a syntax tree into nested Python closures, so evaluating is a few calls per node. Pure.

Each node becomes an ``Evaluator``: a function of the evaluation's :class:`scope.Scope`. Common
shapes get a specialised closure (a property of a dict, ``x == 'literal'``, boolean ``&&``), the
rest go through :mod:`values`. Comparison chains are loops, not nested closures, so the depth of
the closures is bounded by the parser's depth limit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from shipyard.expressions import errors, functions, limits, scope, syntax, values

Evaluator = Callable[[scope.Scope], Any]

_MISSING = values.MISSING


def _not_equals(left: Any, right: Any) -> bool:
    return not values.equals(left, right)


def _at_least(left: Any, right: Any) -> bool:
    return values.equals(left, right) or values.greater_than(left, right)


def _at_most(left: Any, right: Any) -> bool:
    return values.equals(left, right) or values.less_than(left, right)


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": values.equals,
    "!=": _not_equals,
    "<": values.less_than,
    ">": values.greater_than,
    "<=": _at_most,
    ">=": _at_least,
}


def compile_tree(root: syntax.Node | None, expression: str) -> Evaluator:
    """The evaluator of a parsed expression; an empty expression evaluates to null."""
    if root is None:
        return _constant(None)
    return _Compiler(expression).compile(root)


def _constant(value: Any) -> Evaluator:
    def constant(_: scope.Scope) -> Any:
        return value

    return constant


def _contains_call(node: syntax.Node) -> bool:
    """Whether evaluating the node may call a function (and so allocate or fail)."""
    if isinstance(node, syntax.Call):
        return True
    if isinstance(node, syntax.Member | syntax.Not):
        return _contains_call(node.target if isinstance(node, syntax.Member) else node.operand)
    if isinstance(node, syntax.Index):
        return _contains_call(node.target) or (
            node.index is not None and _contains_call(node.index)
        )
    return not isinstance(node, syntax.Literal | syntax.NamedValue)


class _Compiler:
    def __init__(self, expression: str) -> None:
        self.expression = expression

    def compile(self, node: syntax.Node) -> Evaluator:
        if isinstance(node, syntax.Literal):
            return _constant(node.value)
        if isinstance(node, syntax.NamedValue):
            return self.named_value(node)
        if isinstance(node, syntax.Member):
            return self.member(node)
        if isinstance(node, syntax.Index):
            return self.index(node)
        if isinstance(node, syntax.Not):
            return self.negation(node)
        if isinstance(node, syntax.Comparison):
            return self.comparison(node)
        if isinstance(node, syntax.Logical):
            return self.logical(node)
        return self.call(node)

    def named_value(self, node: syntax.NamedValue) -> Evaluator:
        key = node.name.lower()

        def named_value(state: scope.Scope) -> Any:
            return state.values[key]

        return named_value

    def member(self, node: syntax.Member) -> Evaluator:
        target = self.compile(node.target)
        if node.name is None:
            return self.filter(target)
        name = node.name
        position = values.index_of(name)[1]
        if isinstance(node.target, syntax.NamedValue):
            return _context_property(node.target.name.lower(), name, position)
        return _property(target, name, position)

    def index(self, node: syntax.Index) -> Evaluator:
        target = self.compile(node.target)
        if node.index is None:
            return self.filter(target)
        if isinstance(node.index, syntax.Literal):
            name, position = values.index_of(node.index.value)
            if name is not None:
                return _property(target, name, position)
        index = self.compile(node.index)
        access = values.access
        index_of = values.index_of

        def indexed(state: scope.Scope) -> Any:
            # GitHub evaluates the index before the value it indexes.
            name, position = index_of(index(state))
            return access(target(state), name, position)

        return indexed

    def filter(self, target: Evaluator) -> Evaluator:
        access = values.access

        def filtered(state: scope.Scope) -> Any:
            return access(target(state), None, None, star=True)

        return filtered

    def negation(self, node: syntax.Not) -> Evaluator:
        operand = self.compile(node.operand)
        truthy = values.truthy

        def negation(state: scope.Scope) -> bool:
            return not truthy(operand(state))

        return negation

    def comparison(self, node: syntax.Comparison) -> Evaluator:
        if len(node.rest) == 1 and node.rest[0][0] in ("==", "!="):
            operator, right, _ = node.rest[0]
            special = self.equals_literal(node.first, right, negate=operator == "!=")
            if special is not None:
                return special
        first = self.compile(node.first)
        steps = tuple(
            (_OPERATORS[operator], self.compile(operand)) for operator, operand, _ in node.rest
        )

        def comparison(state: scope.Scope) -> bool:
            mark = state.memory
            value = first(state)
            for operator, operand in steps:
                value = operator(value, operand(state))
            state.memory = mark  # the operands are no longer held
            return bool(value)

        return comparison

    def equals_literal(
        self, left: syntax.Node, right: syntax.Node, *, negate: bool
    ) -> Evaluator | None:
        """``x == 'text'`` (either way round) without calls: the literal folded once."""
        if isinstance(left, syntax.Literal):
            left, right = right, left
        if not isinstance(right, syntax.Literal) or type(right.value) is not str:
            return None
        if _contains_call(left):
            return None
        operand = self.compile(left)
        literal = right.value
        folded = values.fold_case(literal)
        fold_case = values.fold_case
        equals = values.equals

        def equals_text(state: scope.Scope) -> bool:
            value = operand(state)
            if type(value) is str:
                same = value == literal or fold_case(value) == folded
            else:
                same = equals(value, literal)
            return same is not negate

        return equals_text

    def logical(self, node: syntax.Logical) -> Evaluator:
        operands = tuple(self.compile(operand) for operand in node.operands)
        truthy = values.truthy
        if node.operator == "&&":

            def conjunction(state: scope.Scope) -> Any:
                value = None
                for operand in operands:
                    value = operand(state)
                    if value is not True and (value is False or not truthy(value)):
                        return value
                return value

            return conjunction

        def disjunction(state: scope.Scope) -> Any:
            value = None
            for operand in operands:
                value = operand(state)
                if value is True or (value is not False and truthy(value)):
                    return value
            return value

        return disjunction

    def call(self, node: syntax.Call) -> Evaluator:
        spec = functions.FUNCTIONS[node.name.lower()]
        arguments = tuple(self.compile(argument) for argument in node.arguments)
        invoke = _invoker(spec, arguments)
        expression = self.expression
        start = node.start
        string_bytes = limits.string_bytes

        def call(state: scope.Scope) -> Any:
            mark = state.memory
            try:
                result = invoke(state)
                # The arguments are released; only the result is still held.
                state.memory = mark
                if type(result) is str:
                    state.charge(string_bytes(result))
            except scope.EvaluationFailure as failure:
                raise _evaluation_error(failure, expression, start) from failure.__cause__
            return result

        return call


def _property(target: Evaluator, name: str, position: int | None) -> Evaluator:
    """``target.name``: a dict's key looked up directly, case-insensitively when that misses."""
    get_property = values.get_property
    access = values.access

    def member(state: scope.Scope) -> Any:
        value = target(state)
        if type(value) is dict:
            found = value.get(name, _MISSING)
            if found is _MISSING:
                found = get_property(value, name)
                if found is _MISSING:
                    return None
            return found
        return access(value, name, position)

    return member


def _context_property(context: str, name: str, position: int | None) -> Evaluator:
    """``context.name``, the most common shape, without a closure for the context."""
    get_property = values.get_property
    access = values.access

    def context_member(state: scope.Scope) -> Any:
        value = state.values[context]
        if type(value) is dict:
            found = value.get(name, _MISSING)
            if found is _MISSING:
                found = get_property(value, name)
                if found is _MISSING:
                    return None
            return found
        return access(value, name, position)

    return context_member


def _invoker(spec: functions.FunctionSpec, arguments: Sequence[Evaluator]) -> Evaluator:
    """A closure calling the function: lazy ones get thunks, eager ones their evaluated values."""
    implementation = spec.call
    if spec.lazy:
        return lambda state: implementation(state, arguments)
    if not arguments:
        return implementation
    if len(arguments) == 1:
        (only,) = arguments
        return lambda state: implementation(state, only(state))
    if len(arguments) == 2:
        first, second = arguments
        return lambda state: implementation(state, first(state), second(state))
    return lambda state: implementation(state, *[argument(state) for argument in arguments])


def _evaluation_error(
    failure: scope.EvaluationFailure, expression: str, start: int
) -> errors.ExpressionError:
    return errors.ExpressionError(
        errors.located(failure.detail, expression, start),
        kind="evaluation",
        expression=expression,
        position=errors.utf16_position(expression, start),
        hint=failure.hint,
    )
