"""``KEY=VALUE`` files (``--env-file``, ``--secret-file``): the dotenv format act and Docker read.

Blank lines and ``#`` comments are skipped; ``export KEY=VALUE`` is accepted; a value may be
quoted with single quotes (kept as is) or double quotes (``\\n``, ``\\"`` and ``\\\\`` escapes).
"""

from __future__ import annotations

import re

from shipyard.core import errors

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def parse(text: str, *, path: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        name, equals, value = line.partition("=")
        name = name.strip()
        column = raw.find(name) + 1 if name else 1
        if not equals or not _NAME.fullmatch(name):
            raise errors.UsageError(
                f"expected KEY=VALUE, found `{raw.strip()[:40]}`",
                location=errors.SourceLocation(path, number, column),
                hint="each line is NAME=VALUE; names are letters, digits and underscores",
            )
        values[name] = _unquote(value.strip(), path, number)
    return values


def _unquote(value: str, path: str, number: int) -> str:
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    if value.startswith('"'):
        if len(value) < 2 or not value.endswith('"'):
            raise errors.UsageError(
                "unterminated double-quoted value",
                location=errors.SourceLocation(path, number, 1),
                hint='close the quote: NAME="value"',
            )
        inner = value[1:-1]
        return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), inner)
    if " #" in value:
        value = value.split(" #", 1)[0].rstrip()
    return value
