"""Positioned YAML: text in, a tree of nodes that know their file:line:col out. Pure: no I/O.

Workflow errors must point at the exact key or value a person wrote, so spec loaders read this
tree instead of plain Python objects. The rules are YAML 1.2's core schema, as GitHub applies them:
``on`` and ``yes``/``no`` are strings, ``true``/``false`` booleans, ``3.10`` the number 3.1.
Anchors, aliases and ``<<`` merge keys work; a key defined twice in one mapping, a mapping or a
list used as a key, and a tag outside the core schema are reported as problems. A syntax error
becomes a ``SpecError`` at the parser's position, in plain words, never a parser traceback.

This module never reads files and never builds Python objects from custom tags. It holds the
nodes and the entry point; ``yaml_composer`` builds the tree from parser events, and
``yaml_errors`` words the problems.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple, TypeAlias

from shipyard.core import errors
from shipyard.spec import yaml_errors

# A scalar as the core schema resolves it.
ScalarValue: TypeAlias = str | int | float | bool | None

# Characters YAML forbids in a stream: the complement of production [1] c-printable of YAML 1.2
# (written out, since a negated class over all of Unicode takes milliseconds to compile).
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")


# Plain classes with slots rather than dataclasses: a tree has thousands of nodes, and a
# dataclass costs a millisecond of start-up per class to build.


class ScalarNode:
    """A scalar: its resolved ``value``, the ``text`` as written, and where it starts."""

    __slots__ = ("location", "plain", "size", "text", "value")

    def __init__(
        self, value: ScalarValue, text: str, location: errors.SourceLocation, plain: bool = True
    ) -> None:
        self.value = value
        self.text = text
        self.location = location
        self.plain = plain
        self.size = 1

    def __repr__(self) -> str:
        return f"ScalarNode({self.value!r} at {self.location})"


class SequenceNode:
    """A list; ``size`` counts every value below it, aliases expanded."""

    __slots__ = ("items", "location", "size")

    def __init__(self, items: list[Node], location: errors.SourceLocation) -> None:
        self.items = items
        self.location = location
        self.size = 1

    def __repr__(self) -> str:
        return f"SequenceNode({len(self.items)} items at {self.location})"


class Entry:
    """One ``key: value`` of a mapping, with the key's own position (for unknown-key errors)."""

    __slots__ = ("key", "key_location", "value")

    def __init__(self, key: str, key_location: errors.SourceLocation, value: Node) -> None:
        self.key = key
        self.key_location = key_location
        self.value = value

    def __repr__(self) -> str:
        return f"Entry({self.key!r} at {self.key_location})"


class MappingNode:
    """A mapping; ``entries`` keeps the file's order, merge keys (``<<``) already applied."""

    __slots__ = ("entries", "location", "size")

    def __init__(self, entries: dict[str, Entry], location: errors.SourceLocation) -> None:
        self.entries = entries
        self.location = location
        self.size = 1

    def __repr__(self) -> str:
        return f"MappingNode({list(self.entries)} at {self.location})"


Node: TypeAlias = ScalarNode | SequenceNode | MappingNode


class Document(NamedTuple):
    """A parsed file: its root node (None when the file holds no document) and its problems.

    ``problems`` are errors the parser could recover from (a duplicate key, an unsupported tag);
    a loader reports them together with its own.
    """

    root: Node | None
    problems: tuple[errors.SpecError, ...] = ()


_PARSED: dict[tuple[str, str], Document] = {}
"""The last few documents parsed: ``shipyard run`` reads a workflow twice (its quick summary for
the whole-run cache, then the loader), and the tree is never changed once built."""
_PARSED_KEPT = 8


def parse(text: str, *, path: str) -> Document:
    """Parse one YAML document. Raises ``SpecError`` for a syntax error, at its file:line:col.

    The tree returned is shared with later calls for the same text and path: read it, never
    change it.
    """
    key = (path, text)
    document = _PARSED.get(key)
    if document is None:
        document = _parse(text, path)
        if len(_PARSED) >= _PARSED_KEPT:
            _PARSED.clear()
        _PARSED[key] = document
    return document


def _parse(text: str, path: str) -> Document:
    bad = _UNPRINTABLE.search(text)
    if bad is not None:
        raise yaml_errors.unprintable_error(text, bad.start(), path)
    from ruamel.yaml import error as yaml_error

    from shipyard.spec import yaml_composer  # imports this module: a cycle only at call time

    composer = yaml_composer.Composer(path)
    try:
        root = composer.compose(yaml_composer.events(text))
    except yaml_error.YAMLError as exc:
        raise yaml_errors.syntax_error(exc, text, path) from None
    problems = sorted(composer.problems, key=lambda problem: _line_column(problem.location))
    return Document(root, tuple(problems))


def _line_column(location: errors.SourceLocation | None) -> tuple[int, int]:
    return (location.line, location.column) if location is not None else (0, 0)


def describe(node: Node) -> str:
    """What a node is, for messages: ``a list``, ``a mapping``, ``the string `yes```."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    value = node.value
    if value is None:
        return "an empty value" if node.text == "" else f"null (`{node.text}`)"
    if isinstance(value, bool):
        kind = "boolean"
    elif isinstance(value, int | float):
        kind = "number"
    else:
        kind = "string"
    return f"the {kind} `{yaml_errors.shorten(node.text)}`"


def to_value(node: Node) -> Any:
    """The plain Python value of a node: dicts, lists and scalars (aliases become copies)."""
    if isinstance(node, ScalarNode):
        return node.value
    if isinstance(node, SequenceNode):
        return [to_value(item) for item in node.items]
    return {entry.key: to_value(entry.value) for entry in node.entries.values()}
