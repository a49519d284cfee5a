"""Turns expression text into tokens, with GitHub's lexical rules and error messages. Pure.

A word runs until a boundary character (``( ) [ ] , . ! < > = & |`` or whitespace), so ``b-ar`` is
one identifier and ``@abc`` one bad symbol. A ``.`` after an identifier, ``]``, ``)`` or ``*`` is
property access; anywhere else it starts a number (``.5``). ``true``, ``false``, ``null``,
``NaN`` and ``Infinity`` are keywords except after a ``.`` (``foo.true`` is a property).
"""

from __future__ import annotations

import enum
import math
import re
from typing import Any, NamedTuple

from shipyard.expressions import errors, limits, values


class TokenKind(enum.IntEnum):
    """What a token is."""

    LEFT_PAREN = enum.auto()
    RIGHT_PAREN = enum.auto()
    LEFT_BRACKET = enum.auto()
    RIGHT_BRACKET = enum.auto()
    COMMA = enum.auto()
    DOT = enum.auto()
    STAR = enum.auto()
    BANG = enum.auto()
    OPERATOR = enum.auto()  # == != < <= > >=
    AND = enum.auto()
    OR = enum.auto()
    LITERAL = enum.auto()  # null, true, false, numbers, strings
    IDENTIFIER = enum.auto()
    END = enum.auto()


class Token(NamedTuple):
    """A token: its kind, where it starts (0-based), its text as written and its literal value."""

    kind: TokenKind
    start: int
    text: str
    value: Any = None


_PUNCTUATION = {
    "(": TokenKind.LEFT_PAREN,
    ")": TokenKind.RIGHT_PAREN,
    "[": TokenKind.LEFT_BRACKET,
    "]": TokenKind.RIGHT_BRACKET,
    ",": TokenKind.COMMA,
    "*": TokenKind.STAR,
}
_KEYWORDS: dict[str, Any] = {
    "true": True,
    "false": False,
    "null": None,
    "NaN": float("nan"),
    "Infinity": float("inf"),
}
_PROPERTY_FOLLOWS = frozenset(
    {TokenKind.IDENTIFIER, TokenKind.RIGHT_BRACKET, TokenKind.RIGHT_PAREN, TokenKind.STAR}
)
_WORD = re.compile(r"[^\s()\[\],.!<>=&|]*")
_NUMBER = re.compile(r"[^\s()\[\],!<>=&|]*")  # a number may contain dots
_STRING = re.compile(r"'(?:[^']|'')*+'")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
# One alternative per way a token can start; every character starts exactly one of them.
_START = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<operator>==|!=|<=|>=|&&|\|\||[<>!])"
    r"|(?P<punctuation>[()\[\],*])"
    r"|(?P<number>[-+0-9.])"
    r"|(?P<string>')"
    r"|(?P<lone>[=&|])"
    r"|(?P<word>[^\s()\[\],.!<>=&|]+)"
)
# Enum members as module constants: looking one up on the class costs ~250 ns in 3.11.
_END = TokenKind.END
_DOT = TokenKind.DOT
_LITERAL = TokenKind.LITERAL
_IDENTIFIER_KIND = TokenKind.IDENTIFIER
_OPERATOR = TokenKind.OPERATOR
_OPERATORS = {
    "&&": TokenKind.AND,
    "||": TokenKind.OR,
    "!": TokenKind.BANG,
}


def _unexpected(text: str, start: int, expression: str) -> errors.ExpressionError:
    return errors.at_token(
        "Unexpected symbol", text, kind="lexing", expression=expression, index=start
    )


def tokenize(expression: str) -> list[Token]:
    """The tokens of an expression, ending with an END token. Raises a lexing ExpressionError."""
    if len(expression) > limits.MAX_EXPRESSION_LENGTH:
        raise errors.ExpressionError(
            f"Exceeded max expression length {limits.MAX_EXPRESSION_LENGTH}",
            kind="lexing",
            expression=expression[:200] + "...",
            hint="split the expression, or compute the value in a step and pass it as an output",
        )
    tokens: list[Token] = []
    index = 0
    length = len(expression)
    previous = _END
    while index < length:
        start = _START.match(expression, index)
        assert start is not None  # the alternatives cover every character
        group = start.lastgroup
        text = start.group()
        if group == "space":
            index = start.end()
            continue
        if group == "operator":
            token = Token(_OPERATORS.get(text, _OPERATOR), index, text)
        elif group == "punctuation":
            token = Token(_PUNCTUATION[text], index, text)
        elif group == "number":
            if text == "." and previous in _PROPERTY_FOLLOWS:
                token = Token(_DOT, index, ".")
            else:
                token = _number(expression, index)
        elif group == "string":
            token = _string(expression, index)
        elif group == "lone":
            # A lone = & | is an error; like GitHub, report it with the word that follows.
            end = _WORD.match(expression, index + 1).end()  # type: ignore[union-attr]
            raise _unexpected(expression[index:end], index, expression)
        else:
            token = _word(text, index, expression, after_dot=previous == _DOT)
        tokens.append(token)
        previous = token.kind
        index += len(token.text)
    tokens.append(Token(_END, length, ""))
    return tokens


def _number(expression: str, index: int) -> Token:
    end = _NUMBER.match(expression, index).end()  # type: ignore[union-attr]
    text = expression[index:end]
    value = values.parse_number(text)
    if math.isnan(value):
        raise _unexpected(text, index, expression)
    return Token(_LITERAL, index, text, value)


def _string(expression: str, index: int) -> Token:
    match = _STRING.match(expression, index)
    if match is None:
        raise _unexpected(expression[index:], index, expression)
    text = match.group()
    return Token(_LITERAL, index, text, text[1:-1].replace("''", "'"))


def _word(text: str, index: int, expression: str, *, after_dot: bool) -> Token:
    if not after_dot and text in _KEYWORDS:
        return Token(_LITERAL, index, text, _KEYWORDS[text])
    if not _IDENTIFIER.fullmatch(text):
        raise _unexpected(text, index, expression)
    return Token(_IDENTIFIER_KIND, index, text)
