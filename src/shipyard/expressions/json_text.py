"""``toJSON`` and ``fromJSON``: GitHub's JSON text for values, and values from JSON text. Pure.

``toJSON`` writes GitHub's layout (two-space indent, ``": "`` between key and value, empty
containers as ``[]`` and ``{}``, numbers as :func:`values.format_number`) without recursion, so a
deep or self-referencing value cannot exhaust the stack; an optional budget stops it as soon as
the text grows past the memory limit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from shipyard.expressions import values

# Newtonsoft.Json, which GitHub uses, also escapes these three; Python's encoder does not.
_EXTRA_ESCAPES = str.maketrans({"\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})

Budget = Callable[[str], None]
"""Called with each piece of text before it is appended; raises to stop the writing."""


def quote(text: str) -> str:
    """A string as a JSON string literal, escaped as GitHub escapes it."""
    quoted = json.dumps(text, ensure_ascii=False)
    if "\u0085" in quoted or "\u2028" in quoted or "\u2029" in quoted:
        return quoted.translate(_EXTRA_ESCAPES)
    return quoted


def _scalar(value: Any, kind: int) -> str:
    if kind == values.NULL:
        return "null"
    if kind == values.BOOLEAN:
        return "true" if value else "false"
    if kind == values.NUMBER:
        return values.format_number(value)
    if kind == values.STRING:
        return quote(value if type(value) is str else str(value))
    return "{}"  # a value that is not JSON-like, written as GitHub writes an unknown object


def to_json(value: Any, budget: Budget | None = None) -> str:
    """GitHub's ``toJSON`` of a value. ``budget`` sees every piece before it is written.

    Raises ValueError for a value that contains itself."""
    pieces: list[str] = []
    for piece in _pieces(value):
        if budget is not None:
            budget(piece)
        pieces.append(piece)
    return "".join(pieces)


def _opening(value: Any, kind: int) -> tuple[str, Iterator[tuple[str | None, Any]] | None]:
    """The text that starts a value and, for a non-empty container, an iterator of its items."""
    if kind == values.ARRAY:
        if len(value) == 0:
            return "[]", None
        return "[", ((None, item) for item in value)
    if kind == values.OBJECT and isinstance(value, Mapping):
        if len(value) == 0:
            return "{}", None
        return "{", ((values.to_string(key), item) for key, item in value.items())
    return _scalar(value, kind), None


def _pieces(value: Any) -> Iterator[str]:
    """The text of a value, piece by piece, walking containers with an explicit stack."""
    text, children = _opening(value, values.kind_of(value))
    yield text
    # Each frame: the container, its items, its closing bracket, whether an item was written yet.
    stack: list[tuple[int, Iterator[tuple[str | None, Any]], str, list[bool]]] = []
    open_containers: set[int] = set()
    if children is not None:
        stack.append((id(value), children, "]" if text == "[" else "}", [False]))
        open_containers.add(id(value))
    while stack:
        identity, items, closing, started = stack[-1]
        entry = next(items, None)
        indent = "  " * len(stack)
        if entry is None:
            stack.pop()
            open_containers.discard(identity)
            yield f"\n{'  ' * len(stack)}{closing}"
            continue
        key, item = entry
        separator = ",\n" if started[0] else "\n"
        started[0] = True
        prefix = f"{separator}{indent}" if key is None else f"{separator}{indent}{quote(key)}: "
        text, children = _opening(item, values.kind_of(item))
        yield prefix + text
        if children is not None:
            if id(item) in open_containers:
                raise ValueError("the value contains itself, so it has no JSON text")
            stack.append((id(item), children, "]" if text == "[" else "}", [False]))
            open_containers.add(id(item))


class JSONError(ValueError):
    """The text given to ``fromJSON`` is not JSON; the message says where."""


def _parse_float(text: str) -> int | float:
    return values.number(float(text))


def _parse_int(text: str) -> int | float:
    return values.number(float(text)) if len(text) > 15 else int(text)


def from_json(text: str) -> Any:
    """The value a JSON text describes; integral numbers become ints. Raises JSONError."""
    if not text.strip():
        raise JSONError("the input is empty")
    try:
        return json.loads(text, parse_float=_parse_float, parse_int=_parse_int)
    except json.JSONDecodeError as error:
        raise JSONError(f"{error.msg} at line {error.lineno}, column {error.colno}") from None
    except RecursionError:
        raise JSONError("the JSON is nested too deeply") from None
