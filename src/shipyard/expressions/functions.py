"""The built-in functions: ``contains``, ``format``, ``toJSON``, ``hashFiles``... Pure.

Each function is a :class:`FunctionSpec`: its name as GitHub spells it, how many arguments it takes
and its implementation. Most receive their arguments evaluated; the lazy ones (``format``, ``join``,
``case``) receive them as thunks and evaluate only what they use, as GitHub does. ``hashFiles`` and
the status functions call the caller's :class:`scope.EvaluationHooks`; this module never touches
a file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from shipyard.core import errors
from shipyard.core.frozen import frozen
from shipyard.expressions import json_text, limits, scope, values

Thunk = Callable[[scope.Scope], Any]


@frozen
class FunctionSpec:
    """A function: its spelling, its arity and its implementation.

    An eager implementation is called as ``call(scope, *arguments)``; a lazy one as
    ``call(scope, thunks)`` where each thunk evaluates one argument.
    """

    name: str
    min_args: int
    max_args: int
    call: Callable[..., Any]
    lazy: bool = False


def _contains(_: scope.Scope, search: Any, item: Any) -> bool:
    if type(search) is str and type(item) is str:
        return values.fold_case(item) in values.fold_case(search)
    if values.is_primitive(search):
        if values.is_primitive(item):
            needle = values.fold_case(values.to_string(item))
            return needle in values.fold_case(values.to_string(search))
        return False
    if values.kind_of(search) == values.ARRAY:
        return any(values.equals(item, element) for element in search)
    return False


def _starts_with(_: scope.Scope, text: Any, prefix: Any) -> bool:
    if not (values.is_primitive(text) and values.is_primitive(prefix)):
        return False
    folded = values.fold_case(values.to_string(text))
    return folded.startswith(values.fold_case(values.to_string(prefix)))


def _ends_with(_: scope.Scope, text: Any, suffix: Any) -> bool:
    if not (values.is_primitive(text) and values.is_primitive(suffix)):
        return False
    folded = values.fold_case(values.to_string(text))
    return folded.endswith(values.fold_case(values.to_string(suffix)))


def _char_at(text: str, index: int) -> str:
    return text[index] if index < len(text) else "\0"


def _read_argument(text: str, start: int) -> tuple[int, str, int] | None:
    """After a ``{``: the argument index, the format specifiers and the closing ``}``'s index."""
    end = start
    while end < len(text) and text[end] in "0123456789":
        end += 1
    digits = text[start:end].lstrip("0") or "0"
    if end == start or len(digits) > 3 or int(digits) > 255:
        return None
    position = int(digits)
    if _char_at(text, end) == "}":
        return position, "", end
    if _char_at(text, end) != ":":
        return None
    specifiers: list[str] = []
    index = end + 1
    while index < len(text):
        if text[index] != "}":
            specifiers.append(text[index])
            index += 1
        elif _char_at(text, index + 1) == "}":
            specifiers.append("}")
            index += 2
        else:
            return position, "".join(specifiers), index
    return None


def format_segments(text: str, supplied: int) -> list[str | tuple[int, str]]:
    """A format string cut into literal text and ``(argument, specifiers)`` placeholders.

    ``{{`` and ``}}`` stand for braces; anything else unbalanced is an error, as is a placeholder
    past the ``supplied`` arguments. Linear in the length of the text.
    """
    segments: list[str | tuple[int, str]] = []
    index = 0
    next_left = text.find("{")
    next_right = text.find("}")
    while index < len(text):
        if 0 <= next_left < index:
            next_left = text.find("{", index)
        if 0 <= next_right < index:
            next_right = text.find("}", index)
        left, right = next_left, next_right
        if left >= 0 and (right < 0 or right > left):
            if _char_at(text, left + 1) == "{":
                segments.append(text[index : left + 1])
                index = left + 2
                continue
            argument = _read_argument(text, left + 1) if right > left + 1 else None
            if argument is None:
                raise scope.EvaluationFailure(f"The following format string is invalid: {text}")
            position, specifiers, closing = argument
            if position >= supplied:
                raise scope.EvaluationFailure(
                    "The following format string references more arguments than were supplied: "
                    + text
                )
            if left > index:
                segments.append(text[index:left])
            segments.append((position, specifiers))
            index = closing + 1
        elif right >= 0:
            if _char_at(text, right + 1) != "}":
                raise scope.EvaluationFailure(f"The following format string is invalid: {text}")
            segments.append(text[index : right + 1])
            index = right + 2
        else:
            segments.append(text[index:])
            break
    return segments


def _format(state: scope.Scope, thunks: Sequence[Thunk]) -> str:
    text = values.to_string(thunks[0](state))
    segments = format_segments(text, len(thunks) - 1)
    arguments: dict[int, Any] = {}
    pieces: list[str] = []
    for segment in segments:
        if isinstance(segment, str):
            piece = segment
        else:
            position, specifiers = segment
            if position not in arguments:
                arguments[position] = thunks[position + 1](state)
            argument = arguments[position]
            if specifiers:
                kind = values.KIND_NAMES[values.kind_of(argument)]
                raise scope.EvaluationFailure(
                    f"The format specifiers '{specifiers}' are not valid for objects of type "
                    f"'{kind}'",
                    hint="GitHub's format() takes no format specifiers: write {0}, not {0:...}",
                )
            piece = values.to_string(argument)
        state.charge_text(piece)
        pieces.append(piece)
    return "".join(pieces)


def _join(state: scope.Scope, thunks: Sequence[Thunk]) -> str:
    items = thunks[0](state)
    kind = values.kind_of(items)
    if kind != values.ARRAY:
        return values.to_string(items) if kind <= values.STRING else ""
    separator = ","
    if len(items) > 1 and len(thunks) > 1:
        given = thunks[1](state)
        if values.is_primitive(given):
            separator = values.to_string(given)
    pieces: list[str] = []
    for number, item in enumerate(items):
        if number:
            state.charge_text(separator)
            pieces.append(separator)
        piece = values.to_string(item)
        state.charge_text(piece)
        pieces.append(piece)
    return "".join(pieces)


def _to_json(state: scope.Scope, value: Any) -> str:
    try:
        return json_text.to_json(value, budget=state.charge_text)
    except ValueError as error:
        raise scope.EvaluationFailure(f"toJSON failed: {error}") from None


def _from_json(state: scope.Scope, value: Any) -> Any:
    text = values.to_string(value)
    # The parsed value takes room too; charge it as much as its text before building it.
    state.charge_text(text)
    try:
        return json_text.from_json(text)
    except json_text.JSONError as error:
        raise scope.EvaluationFailure(
            f"Error parsing fromJSON: {error}",
            hint='fromJSON needs JSON text, such as \'["a", "b"]\' or \'{"key": 1}\'',
        ) from None


def _case(state: scope.Scope, thunks: Sequence[Thunk]) -> Any:
    for index in range(0, len(thunks) - 1, 2):
        predicate = thunks[index](state)
        if values.kind_of(predicate) != values.BOOLEAN:
            raise scope.EvaluationFailure(
                "case predicate must evaluate to a boolean value",
                hint="compare explicitly, e.g. case(github.ref == 'refs/heads/main', 'a', 'b')",
            )
        if predicate:
            return thunks[index + 1](state)
    return thunks[-1](state)


def _hash_files(state: scope.Scope, *patterns: Any) -> str:
    hooks = state.hooks
    if hooks is None or hooks.hash_files is None:
        raise scope.EvaluationFailure(
            "hashFiles() is not available here",
            hint="hashFiles() works in a step's run, with, env, name, if, working-directory, "
            "continue-on-error and timeout-minutes",
        )
    texts = [values.to_string(pattern) for pattern in patterns]
    try:
        return values.to_string(hooks.hash_files(texts))
    except errors.ShipyardError as error:
        shown = ", ".join(texts)
        raise scope.EvaluationFailure(
            f"hashFiles('{shown}') failed: {error.message}", hint=error.hint
        ) from error


def _status(name: str) -> Callable[[scope.Scope], bool]:
    def status(state: scope.Scope) -> bool:
        hooks = state.hooks
        if hooks is None or hooks.status is None:
            raise scope.EvaluationFailure(
                f"{name}() is not available here",
                hint="status functions work only in the `if:` of a job or a step",
            )
        try:
            return bool(hooks.status(name))
        except errors.ShipyardError as error:
            raise scope.EvaluationFailure(
                f"{name}() failed: {error.message}", error.hint
            ) from error

    return status


def _spec(
    name: str, least: int, most: int, call: Callable[..., Any], *, lazy: bool = False
) -> tuple[str, FunctionSpec]:
    return name.lower(), FunctionSpec(name, least, most, call, lazy)


MOST: Final = limits.MAX_ARGUMENTS

FUNCTIONS: Final[dict[str, FunctionSpec]] = dict(
    [
        _spec("contains", 2, 2, _contains),
        _spec("startsWith", 2, 2, _starts_with),
        _spec("endsWith", 2, 2, _ends_with),
        _spec("format", 1, MOST, _format, lazy=True),
        _spec("join", 1, 2, _join, lazy=True),
        _spec("toJSON", 1, 1, _to_json),
        _spec("fromJSON", 1, 1, _from_json),
        _spec("case", 3, MOST, _case, lazy=True),
        _spec("hashFiles", 1, MOST, _hash_files),
        _spec("success", 0, 0, _status("success")),
        _spec("failure", 0, 0, _status("failure")),
        _spec("cancelled", 0, 0, _status("cancelled")),
        _spec("always", 0, 0, _status("always")),
    ]
)
"""Every function, by lower-case name (function names are case-insensitive)."""

STATUS_FUNCTIONS: Final = frozenset({"success", "failure", "cancelled", "always"})
"""The status functions (lower case): an ``if:`` without one means ``success() && (...)``."""

SPECIAL_FUNCTIONS: Final = STATUS_FUNCTIONS | {"hashfiles"}
"""Functions GitHub allows only at some workflow keys (lower case)."""


def spelling(name: str) -> str:
    """A function's name as GitHub spells it (``hashfiles`` -> ``hashFiles``)."""
    spec = FUNCTIONS.get(name.lower())
    return spec.name if spec is not None else name
