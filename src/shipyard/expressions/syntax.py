"""The syntax tree of an expression, as the parser builds it. Pure data.

``start`` is the 0-based index in the expression of the token that names the node (the operator,
the function name, the ``.`` or ``[``); error messages turn it into GitHub's 1-based position.
"""

from __future__ import annotations

from typing import Any

from shipyard.core.frozen import frozen


@frozen
class Literal:
    """``null``, ``true``, ``1.5``, ``'text'``."""

    value: Any
    start: int


@frozen
class NamedValue:
    """A context at the top of an expression: ``github``, ``matrix``."""

    name: str
    start: int


@frozen
class Member:
    """``target.name``, or the object filter ``target.*`` when ``name`` is None."""

    target: Node
    name: str | None
    start: int


@frozen
class Index:
    """``target[index]``, or the object filter ``target[*]`` when ``index`` is None."""

    target: Node
    index: Node | None
    start: int


@frozen
class Not:
    """``!operand``."""

    operand: Node
    start: int


@frozen
class Comparison:
    """A left-associative chain ``a == b != c`` or ``a < b >= c``: ``rest`` is (operator, operand,
    operator start) for each step, evaluated in a loop rather than as nested nodes."""

    first: Node
    rest: tuple[tuple[str, Node, int], ...]


@frozen
class Logical:
    """``a && b && c`` or ``a || b``: short-circuit, the result is the deciding operand."""

    operator: str
    operands: tuple[Node, ...]
    start: int


@frozen
class Call:
    """``name(arguments...)``; ``name`` as written (function names are case-insensitive)."""

    name: str
    arguments: tuple[Node, ...]
    start: int


Node = Literal | NamedValue | Member | Index | Not | Comparison | Logical | Call
