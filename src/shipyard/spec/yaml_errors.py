"""YAML syntax errors in plain words, at the position that explains them. Pure: no I/O.

libyaml reports problems in parser jargon ("did not find expected <document start>"); a person
needs to hear what is wrong with the line they wrote and what to do. ``shipyard.spec.yamlsource``
hands its parser exceptions here and raises the ``SpecError`` this module builds.
"""

from __future__ import annotations

from shipyard.core import errors


def position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


def unprintable_error(text: str, index: int, path: str) -> errors.SpecError:
    line, column = position(text, index)
    code = ord(text[index])
    return errors.SpecError(
        f"the file contains the character U+{code:04X}, which YAML does not allow",
        location=errors.SourceLocation(path, line, column),
        hint=f'remove it, or write it as an escape inside double quotes ("\\u{code:04x}")'
        if code <= 0xFFFF
        else "remove it",
    )


def syntax_error(exc: BaseException, text: str, path: str) -> errors.SpecError:
    """A parser exception as one plain sentence at the position that explains it."""
    problem = str(getattr(exc, "problem", None) or getattr(exc, "reason", None) or "")
    mark = getattr(exc, "problem_mark", None)
    if "end of stream" in problem:  # an unclosed quote or bracket: point at where it opened
        mark = getattr(exc, "context_mark", None) or mark
    if mark is not None:
        location = errors.SourceLocation(path, mark.line + 1, mark.column + 1)
    else:
        line, column = position(text, min(getattr(exc, "position", 0) or 0, len(text)))
        location = errors.SourceLocation(path, line, column)
    message, hint = _plain_words(problem)
    if "tab" in problem or _char_at(text, location) == "\t":
        message, hint = "a tab character here; YAML indents with spaces", "replace tabs with spaces"
    return errors.SpecError(
        f"invalid YAML: {message}",
        location=location,
        hint=hint or "check the YAML syntax at this position",
    )


def _char_at(text: str, location: errors.SourceLocation) -> str:
    lines = text.split("\n", location.line)
    if location.line > len(lines):
        return ""
    line = lines[location.line - 1]
    return line[location.column - 1] if 0 < location.column <= len(line) else ""


def _plain_words(problem: str) -> tuple[str, str | None]:
    for start, said in _PLAIN_SYNTAX.items():
        if problem.startswith(start):
            return said
    return problem or "the parser gave up here", None


# The start of the parser's problem -> (what to say, what to do). libyaml and ruamel's
# pure-Python parser word some problems differently after the first few words.
_PLAIN_SYNTAX: dict[str, tuple[str, str]] = {
    "mapping values are not allowed": (
        "unexpected `:` (a mapping cannot start inside this value)",
        "quote a value that contains `: `, or fix the indentation of this line",
    ),
    "found character that cannot start any token": (
        "this character cannot start a value",
        "quote the value; `@`, a backtick and `%` cannot start a plain value",
    ),
    "did not find expected '-' indicator": (
        "expected a list item (`- `) at this indentation",
        "line up the items of a list, or indent this line under a key",
    ),
    "did not find expected key": (
        "expected a key at this indentation",
        "line up the keys of a mapping; a list item needs `- ` in front",
    ),
    "did not find expected node content": (
        "expected a value here",
        "check for a stray `,`, `]` or `}`, or quote the value",
    ),
    "found unexpected end of stream": (
        "this quote or bracket is never closed",
        "close it before the end of the file",
    ),
    "found unknown escape character": (
        "unknown escape sequence in a double-quoted string",
        "write a backslash as `\\\\`, or use single quotes",
    ),
    "could not find expected ':'": (
        "expected `:` after this key",
        "a key and its value are separated by `: `; a multi-line value needs `|`",
    ),
    "did not find expected ',' or ']'": (
        "expected `,` or `]` in this list",
        "separate the items of `[...]` with commas and close it with `]`",
    ),
    "did not find expected ',' or '}'": (
        "expected `,` or `}` in this mapping",
        "separate the entries of `{...}` with commas and close it with `}`",
    ),
    "did not find expected <document start>": (
        "unexpected content after the end of the document",
        "remove it, or check the indentation of the lines above",
    ),
    "found undefined tag handle": (
        "unknown tag handle",
        "remove the tag; workflow files use plain values",
    ),
}


def shorten(text: str, limit: int = 40) -> str:
    """``text`` on one line, cut to ``limit`` characters, for quoting in a message."""
    one_line = text.replace("\n", "\\n")
    return one_line if len(one_line) <= limit else one_line[: limit - 3] + "..."
