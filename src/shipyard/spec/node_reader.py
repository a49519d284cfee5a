"""Typed reads from positioned YAML nodes that collect every error instead of stopping. Pure.

A spec loader asks a ``NodeReader`` for "a mapping here", "a boolean or an expression there"; each
read returns the value, or None after recording a ``SpecError`` that says what was expected and
what was found, where, at which key path, and what to do. The loader carries on, so one pass
reports every problem in a file. The reader knows YAML shapes, never a file format's meaning.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Literal

from shipyard.core import errors, suggest
from shipyard.spec import workflow, yamlsource

EXPRESSION_START = "${{"


def is_expression(value: object) -> bool:
    """Whether a value is a string holding ``${{ }}`` (so its type is known only at run time)."""
    return isinstance(value, str) and EXPRESSION_START in value


def join(path: str, key: str) -> str:
    """``jobs.test`` + ``steps`` -> ``jobs.test.steps``."""
    return f"{path}.{key}" if path else key


class NodeReader:
    """Reads values out of nodes for one file; ``errors`` holds every problem found so far."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[errors.SpecError] = []

    # -- reporting --

    def error(
        self,
        location: errors.SourceLocation,
        key_path: str,
        message: str,
        hint: str | None = None,
    ) -> None:
        """Record one problem."""
        self.errors.append(
            errors.SpecError(message, location=location, key_path=key_path or None, hint=hint)
        )

    def wrong_type(
        self, node: yamlsource.Node, path: str, expected: str, hint: str | None = None
    ) -> None:
        """``expected a mapping, found a list``."""
        found = yamlsource.describe(node)
        if hint is None and isinstance(node, yamlsource.ScalarNode):
            hint = _scalar_hint(node, expected)
        self.error(node.location, path, f"expected {expected}, found {found}", hint)

    # -- shapes --

    def mapping(
        self, node: yamlsource.Node, path: str, expected: str = "a mapping"
    ) -> yamlsource.MappingNode | None:
        if isinstance(node, yamlsource.MappingNode):
            return node
        self.wrong_type(node, path, expected)
        return None

    def sequence(
        self, node: yamlsource.Node, path: str, expected: str = "a list"
    ) -> yamlsource.SequenceNode | None:
        if isinstance(node, yamlsource.SequenceNode):
            return node
        self.wrong_type(node, path, expected)
        return None

    def check_keys(
        self,
        node: yamlsource.MappingNode,
        path: str,
        allowed: Collection[str],
        unsupported: Mapping[str, tuple[str, str]] | None = None,
        *,
        noun: str = "key",
    ) -> None:
        """Report keys that are not ``allowed``; ``unsupported`` maps known keys to (why, hint)."""
        for key, entry in node.entries.items():
            if key in allowed:
                continue
            if unsupported and key in unsupported:
                message, hint = unsupported[key]
                self.error(entry.key_location, join(path, key), message, hint)
                continue
            self.error(
                entry.key_location,
                join(path, key),
                f"unknown {noun} `{key}`",
                suggest.did_you_mean(key, allowed, noun=noun),
            )

    def require(
        self,
        node: yamlsource.MappingNode,
        path: str,
        key: str,
        hint: str,
        *,
        location: errors.SourceLocation | None = None,
        known: Collection[str] = (),
    ) -> bool:
        """Report a missing key (at ``location``, default the mapping's); True when it is there.

        An unknown key (one not in ``known``) that looks like ``key`` was already reported with
        "did you mean", so the missing key is not reported a second time.
        """
        if key in node.entries:
            return True
        misspelt = any(
            other not in known and suggest.closest(other, [key]) == key for other in node.entries
        )
        if not misspelt:
            self.error(location or node.location, path, f"missing `{key}`", hint)
        return False

    # -- scalars --

    def string(
        self, node: yamlsource.Node, path: str, *, strict: bool = False, non_empty: bool = False
    ) -> str | None:
        """A string. Unless ``strict``, a number or boolean is read as the text written."""
        if not isinstance(node, yamlsource.ScalarNode) or node.value is None:
            self.wrong_type(node, path, "a string")
            return None
        value = node.value
        if not isinstance(value, str):
            if strict:
                self.wrong_type(node, path, "a string")
                return None
            value = node.text
        if non_empty and not value.strip():
            self.error(node.location, path, "expected a non-empty string, found an empty one")
            return None
        return value

    def boolean(
        self, node: yamlsource.Node, path: str, *, expression: bool = False
    ) -> bool | str | None:
        """``true``/``false``, or a ``${{ }}`` string when ``expression`` allows one."""
        value = node.value if isinstance(node, yamlsource.ScalarNode) else None
        if isinstance(value, bool):
            return value
        if expression and is_expression(value):
            assert isinstance(value, str)
            return value
        self.wrong_type(node, path, "`true` or `false`" + (" or an expression" * expression))
        return None

    def number(
        self,
        node: yamlsource.Node,
        path: str,
        *,
        expression: bool = False,
        kind: Literal["number", "integer"] = "number",
        above: float | None = None,
    ) -> int | float | str | None:
        """A number (or an integer) greater than ``above``, or an expression when allowed."""
        wanted = "an integer" if kind == "integer" else "a number"
        expected = wanted + (" or an expression" * expression)
        if not isinstance(node, yamlsource.ScalarNode):
            self.wrong_type(node, path, expected)
            return None
        value = node.value
        if expression and is_expression(value):
            assert isinstance(value, str)
            return value
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (kind == "integer" and not isinstance(value, int))
            or not math.isfinite(value)
        ):
            self.wrong_type(node, path, expected)
            return None
        if above is not None and not value > above:
            self.error(
                node.location, path, f"expected {wanted} above {above:g}, found `{node.text}`"
            )
            return None
        return value

    def choice(
        self, node: yamlsource.Node, path: str, options: Collection[str], noun: str = "value"
    ) -> str | None:
        """One of ``options`` (a string)."""
        value = self.string(node, path, strict=True)
        if value is None:
            return None
        if value not in options:
            self.error(
                node.location,
                path,
                f"unknown {noun} `{value}`",
                suggest.did_you_mean(value, options, noun=noun),
            )
            return None
        return value

    def strings(
        self, node: yamlsource.Node, path: str, *, non_empty: bool = True
    ) -> list[tuple[str, yamlsource.Node]] | None:
        """A string or a list of strings, each with its node (for its position)."""
        if isinstance(node, yamlsource.SequenceNode):
            found = []
            for index, item in enumerate(node.items):
                text = self.string(item, f"{path}[{index}]", strict=True, non_empty=non_empty)
                if text is not None:
                    found.append((text, item))
            return found
        if isinstance(node, yamlsource.ScalarNode) and isinstance(node.value, str):
            text = self.string(node, path, strict=True, non_empty=non_empty)
            return [(text, node)] if text is not None else None
        self.wrong_type(node, path, "a string or a list of strings")
        return None

    def scalar_map(
        self, node: yamlsource.Node, path: str, *, values: str = "values"
    ) -> dict[str, tuple[workflow.Scalar, yamlsource.ScalarNode]] | None:
        """A mapping of names to strings, numbers or booleans (null reads as an empty string)."""
        mapping = self.mapping(node, path)
        if mapping is None:
            return None
        found: dict[str, tuple[workflow.Scalar, yamlsource.ScalarNode]] = {}
        for key, entry in mapping.entries.items():
            value = entry.value
            if not isinstance(value, yamlsource.ScalarNode):
                self.wrong_type(
                    value,
                    join(path, key),
                    f"a string, number or boolean ({values} cannot be lists or mappings)",
                )
                continue
            found[key] = ("" if value.value is None else value.value, value)
        return found


def _scalar_hint(node: yamlsource.ScalarNode, expected: str) -> str | None:
    text = node.text
    if "`true` or `false`" in expected and text.lower() in {"yes", "no", "on", "off", "y", "n"}:
        return f"YAML 1.2 reads `{text}` as a string; write `true` or `false`"
    if "`true` or `false`" in expected and text.lower() in {"true", "false"}:
        return f"remove the quotes: `{text.lower()}`"
    if node.value is None and "string" in expected:
        return "write a value after the colon, or remove the key"
    return None


def open_document(
    text: str, *, path: str, noun: str, expected: str, empty_hint: str
) -> tuple[NodeReader, yamlsource.MappingNode]:
    """Parse a file whose root must be a mapping: its reader (holding the parser's recoverable
    problems) and the root. Raises ``errors.SpecErrors`` for a syntax error, an empty file
    (``the <noun> is empty``) or a root that is not ``expected``."""
    try:
        document = yamlsource.parse(text, path=path)
    except errors.SpecError as syntax:
        raise errors.SpecErrors([syntax]) from None
    reader = NodeReader(path)
    reader.errors.extend(document.problems)
    root = document.root
    if root is None or (isinstance(root, yamlsource.ScalarNode) and root.value is None):
        start = errors.SourceLocation(path, 1, 1)
        empty = errors.SpecError(f"the {noun} is empty", location=start, hint=empty_hint)
        raise errors.SpecErrors([empty])
    mapping = reader.mapping(root, "", expected)
    if mapping is None:
        raise errors.SpecErrors(reader.errors)
    return reader, mapping


def read_text(file: Path, *, shown: str, noun: str, missing_hint: str) -> str:
    """A spec file's text (UTF-8, BOM allowed). Raises ``errors.SpecErrors`` naming ``shown``
    when it cannot be read (``cannot read the <noun>: ...``) or is not UTF-8 (at the bad byte)."""
    try:
        raw = file.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        problem = errors.SpecError(
            f"cannot read the {noun}: {reason}",
            location=errors.SourceLocation(shown, 1, 1),
            hint=missing_hint,
        )
        raise errors.SpecErrors([problem]) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        problem = errors.SpecError(
            f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x})",
            location=errors.SourceLocation(shown, line, column),
            hint="save the file as UTF-8",
        )
        raise errors.SpecErrors([problem]) from None
