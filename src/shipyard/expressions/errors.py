"""The one error the expression language raises, with GitHub's wording. Pure: no I/O.

Every lexing, parsing and evaluation problem becomes an :class:`ExpressionError` whose message reads
like GitHub's (``Unexpected symbol: ')'. Located at position 5 within expression: 1 < )``), so a
person who searches for the text finds GitHub's documentation and answers. Positions count from 1
in UTF-16 code units, as GitHub counts them.
"""

from __future__ import annotations

from typing import Any, Literal

from shipyard.core import errors

ErrorKind = Literal["lexing", "parsing", "evaluation"]


class ExpressionError(errors.ShipyardError):
    """A ``${{ }}`` expression could not be lexed, parsed or evaluated.

    ``kind`` says which stage failed, ``expression`` is the text of the expression (without
    ``${{ }}``) and ``position`` the 1-based place in it, when there is one. The workflow loader
    attaches the file location of the expression with :meth:`at`.
    """

    # The person can fix the expression, as with any other user error.
    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        kind: ErrorKind,
        expression: str,
        position: int | None = None,
        location: errors.SourceLocation | None = None,
        key_path: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, location=location, key_path=key_path, hint=hint)
        self.kind: ErrorKind = kind
        self.expression = expression
        self.position = position

    def at(
        self, *, location: errors.SourceLocation | None = None, key_path: str | None = None
    ) -> ExpressionError:
        """The same error, placed in a file: ``raise error.at(location=...) from error``."""
        placed = _restore(type(self), self.args, dict(self.__dict__))
        placed.location = location if location is not None else self.location
        placed.key_path = key_path if key_path is not None else self.key_path
        return placed

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only arguments defeat the default pickling; errors cross process boundaries.
        return _restore, (type(self), self.args, dict(self.__dict__))


def _restore(
    cls: type[ExpressionError], args: tuple[Any, ...], state: dict[str, Any]
) -> ExpressionError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


def utf16_position(text: str, index: int) -> int:
    """The 1-based position of ``text[index]`` counted in UTF-16 code units, as GitHub counts."""
    prefix = text[:index]
    if prefix.isascii():
        return index + 1
    return len(prefix.encode("utf-16-le")) // 2 + 1


def located(detail: str, expression: str, index: int) -> str:
    """GitHub's message shape: ``<detail>. Located at position N within expression: <expr>``."""
    position = utf16_position(expression, index)
    return f"{detail}. Located at position {position} within expression: {expression}"


def at_token(
    description: str,
    token_text: str,
    *,
    kind: ErrorKind,
    expression: str,
    index: int,
    hint: str | None = None,
) -> ExpressionError:
    """An error about one token: ``Unexpected symbol: 'x'. Located at position ...``."""
    return ExpressionError(
        located(f"{description}: '{token_text}'", expression, index),
        kind=kind,
        expression=expression,
        position=utf16_position(expression, index),
        hint=hint,
    )
