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
_WHITESPACE = re.compile(r"\s+")
_WORD = re.compile(r"[^\s()\[\],.!<>=&|]*")
_NUMBER = re.compile(r"[^\s()\[\],!<>=&|]*")  # a number may contain dots
_STRING = re.compile(r"'(?:[^']|'')*+'")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


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
    while index < length:
        character = expression[index]
        if character.isspace():
            index = _WHITESPACE.match(expression, index).end()  # type: ignore[union-attr]
            continue
        kind = _PUNCTUATION.get(character)
        if kind is not None:
            tokens.append(Token(kind, index, character))
            index += 1
            continue
        token = _operator(expression, index, character)
        if token is None:
            previous = tokens[-1].kind if tokens else TokenKind.END
            if character == "." and previous in _PROPERTY_FOLLOWS:
                token = Token(TokenKind.DOT, index, ".")
            elif character in "+-." or "0" <= character <= "9":
                token = _number(expression, index)
            elif character == "'":
                token = _string(expression, index)
            else:
                token = _word(expression, index, after_dot=previous == TokenKind.DOT)
        tokens.append(token)
        index += len(token.text)
    tokens.append(Token(TokenKind.END, length, ""))
    return tokens


def _operator(expression: str, index: int, character: str) -> Token | None:
    """``!``, ``!=``, ``==``, ``<``, ``<=``, ``>``, ``>=``, ``&&``, ``||``; None for other text."""
    pair = expression[index : index + 2]
    if pair in ("==", "!=", "<=", ">="):
        return Token(TokenKind.OPERATOR, index, pair)
    if pair == "&&":
        return Token(TokenKind.AND, index, pair)
    if pair == "||":
        return Token(TokenKind.OR, index, pair)
    if character in "<>":
        return Token(TokenKind.OPERATOR, index, character)
    if character == "!":
        return Token(TokenKind.BANG, index, character)
    if character in "=&|":
        # A lone = & | is an error; like GitHub, report it with the word that follows.
        end = _WORD.match(expression, index + 1).end()  # type: ignore[union-attr]
        raise _unexpected(expression[index:end], index, expression)
    return None


def _number(expression: str, index: int) -> Token:
    end = _NUMBER.match(expression, index).end()  # type: ignore[union-attr]
    text = expression[index:end]
    value = values.parse_number(text)
    if math.isnan(value):
        raise _unexpected(text, index, expression)
    return Token(TokenKind.LITERAL, index, text, value)


def _string(expression: str, index: int) -> Token:
    match = _STRING.match(expression, index)
    if match is None:
        raise _unexpected(expression[index:], index, expression)
    text = match.group()
    return Token(TokenKind.LITERAL, index, text, text[1:-1].replace("''", "'"))


def _word(expression: str, index: int, *, after_dot: bool) -> Token:
    end = _WORD.match(expression, index).end()  # type: ignore[union-attr]
    text = expression[index:end]
    if not after_dot and text in _KEYWORDS:
        return Token(TokenKind.LITERAL, index, text, _KEYWORDS[text])
    if not _IDENTIFIER.fullmatch(text):
        raise _unexpected(text, index, expression)
    return Token(TokenKind.IDENTIFIER, index, text)
