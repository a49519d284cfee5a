"""Composing the tree of positioned YAML nodes from parser events. Pure: no I/O.

Events come from ruamel.yaml's C parser (libyaml) when it is installed (about 20 times faster),
else from its pure-Python parser. The tree is composed here with an explicit stack, so deep nesting
cannot overflow anything, and every collection counts the values below it, so an alias bomb stops
at ``MAX_VALUES``. Plain scalars are resolved by YAML 1.2's core schema; anchors, aliases and
``<<`` merge keys are applied; duplicate keys, non-string keys and unknown tags become problems.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from shipyard.core import errors
from shipyard.spec import yaml_errors, yamlsource

MAX_DEPTH = 100
"""Deepest nesting of lists and mappings accepted; real workflows stay under 15."""

MAX_VALUES = 100_000
"""Most values a document may hold, aliases counted each time they are used (stops alias bombs)."""

_CORE = "tag:yaml.org,2002:"
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_TRUES = frozenset({"true", "True", "TRUE"})
_FALSES = frozenset({"false", "False", "FALSE"})
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_INF = re.compile(r"[-+]?\.(?:inf|Inf|INF)")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)")


def events(text: str) -> Iterator[Any]:
    """YAML events from libyaml when available (about 20x faster), else from pure Python."""
    try:
        from ruamel.yaml import cyaml
    except ImportError:  # pragma: no cover - no libyaml wheel for this platform
        return _pure_events(text)
    return _c_events(cyaml.CParser(text))  # type: ignore[attr-defined]


def _c_events(parser: Any) -> Iterator[Any]:
    from ruamel.yaml import events as yaml_events

    end = yaml_events.StreamEndEvent
    while True:
        event = parser.get_event()
        yield event
        if isinstance(event, end):
            return


def _pure_events(text: str) -> Iterator[Any]:
    import warnings

    from ruamel.yaml import YAML

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield from YAML(typ="safe", pure=True).parse(text)


class _Frame:
    """A collection being composed, with the key waiting for its value (mappings only)."""

    __slots__ = ("anchor", "key", "node", "pairs", "path")

    def __init__(
        self, node: yamlsource.SequenceNode | yamlsource.MappingNode, path: str, anchor: str | None
    ) -> None:
        self.node = node
        self.path = path
        self.anchor = anchor
        self.key: yamlsource.ScalarNode | bool | None = None  # False: the pending key was invalid
        self.pairs: list[tuple[yamlsource.ScalarNode, yamlsource.Node]] = []


class Composer:
    """Builds nodes from parser events with an explicit stack (no recursion to overflow)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[errors.SpecError] = []
        self.anchors: dict[str, yamlsource.Node] = {}
        self.open_anchors: set[str] = set()
        self.stack: list[_Frame] = []
        self.root: yamlsource.Node | None = None
        self.documents = 0

    def compose(self, stream: Iterator[Any]) -> yamlsource.Node | None:
        """The root of the one document in ``stream`` (None for an empty stream).

        Raises ``SpecError`` for what cannot be recovered from (a second document, an alias
        to nothing, too deep or too big); collects the rest in ``problems``.
        """
        from ruamel.yaml import events as yaml_events

        for event in stream:
            kind = type(event)
            if kind is yaml_events.ScalarEvent:
                self._attach(self._scalar(event), event.anchor)
            elif kind is yaml_events.AliasEvent:
                self._attach(self._alias(event), None)
            elif kind is yaml_events.MappingStartEvent or kind is yaml_events.SequenceStartEvent:
                self._open(event, kind is yaml_events.MappingStartEvent)
            elif kind is yaml_events.MappingEndEvent or kind is yaml_events.SequenceEndEvent:
                self._close()
            elif kind is yaml_events.DocumentStartEvent:
                self.documents += 1
                if self.documents > 1:
                    raise self._fatal(
                        event,
                        "a second YAML document starts here, but the file must hold only one",
                        "remove the `---` line and everything after it, or move it to its own file",
                    )
        return self.root

    # -- nodes --

    def _location(self, event: Any) -> errors.SourceLocation:
        mark = event.start_mark
        return errors.SourceLocation(self.path, mark.line + 1, mark.column + 1)

    def _child_path(self) -> str:
        if not self.stack:
            return ""
        frame = self.stack[-1]
        if isinstance(frame.node, yamlsource.SequenceNode):
            return f"{frame.path}[{len(frame.node.items)}]"
        key = frame.key
        if not isinstance(key, yamlsource.ScalarNode):
            return frame.path
        return f"{frame.path}.{key.text}" if frame.path else key.text

    def _scalar(self, event: Any) -> yamlsource.ScalarNode:
        location = self._location(event)
        text: str = event.value
        plain = not event.style
        tag = event.tag
        if tag is None or tag == "!":
            value = _resolve_plain(text) if (plain and tag is None) else text
        else:
            value = self._resolve_tagged(text, str(tag), location)
        return yamlsource.ScalarNode(value, text, location, plain)

    def _resolve_tagged(
        self, text: str, tag: str, location: errors.SourceLocation
    ) -> yamlsource.ScalarValue:
        name = tag.removeprefix(_CORE)
        if name == "str":
            return text
        resolved = _resolve_plain(text)
        wanted = {"int": int, "float": float, "bool": bool, "null": type(None)}.get(name)
        if wanted is None:
            self._problem(location, f"unsupported YAML tag `{_tag_text(tag)}`", _TAG_HINT)
            return text
        if wanted is float and type(resolved) is int:
            return float(resolved)
        if type(resolved) is not wanted:
            self._problem(
                location,
                f"`{yaml_errors.shorten(text)}` is not a valid `!!{name}`",
                "remove the tag or correct the value",
            )
            return text
        return resolved

    def _alias(self, event: Any) -> yamlsource.Node:
        name: str = event.anchor
        if name in self.open_anchors:
            raise self._fatal(
                event,
                f"alias `*{name}` refers to a collection that contains it",
                "an alias cannot repeat the list or mapping it sits in",
            )
        node = self.anchors.get(name)
        if node is None:
            raise self._fatal(
                event,
                f"alias `*{name}` refers to no anchor",
                f"define `&{name}` on a value above this line",
            )
        return node

    def _open(self, event: Any, mapping: bool) -> None:
        if len(self.stack) >= MAX_DEPTH:
            raise errors.SpecError(
                f"the document nests lists and mappings more than {MAX_DEPTH} levels deep",
                location=self._location(event),
                hint="flatten the structure",
            )
        location = self._location(event)
        self._check_collection_tag(event, location, mapping)
        node: yamlsource.SequenceNode | yamlsource.MappingNode
        node = (
            yamlsource.MappingNode({}, location)
            if mapping
            else yamlsource.SequenceNode([], location)
        )
        if event.anchor is not None:
            self.open_anchors.add(event.anchor)
        self.stack.append(_Frame(node, self._child_path(), event.anchor))

    def _check_collection_tag(
        self, event: Any, location: errors.SourceLocation, mapping: bool
    ) -> None:
        tag = event.tag
        if tag is None or tag == "!":
            return
        expected = _CORE + ("map" if mapping else "seq")
        if str(tag) != expected:
            self._problem(location, f"unsupported YAML tag `{_tag_text(str(tag))}`", _TAG_HINT)

    def _close(self) -> None:
        frame = self.stack.pop()
        node = frame.node
        if isinstance(node, yamlsource.MappingNode):
            self._finish_mapping(node, frame)
        else:
            node.size = 1 + sum(item.size for item in node.items)
        if node.size > MAX_VALUES:
            raise errors.SpecError(
                f"the document holds more than {MAX_VALUES} values "
                "(an alias counts every value it repeats)",
                location=node.location,
                key_path=frame.path or None,
                hint="aliases that repeat aliases grow exponentially; write the values out",
            )
        self._attach(node, frame.anchor)

    def _attach(self, node: yamlsource.Node, anchor: str | None) -> None:
        if anchor is not None:
            self.anchors[anchor] = node
            self.open_anchors.discard(anchor)
        if not self.stack:
            self.root = node
            return
        frame = self.stack[-1]
        parent = frame.node
        if isinstance(parent, yamlsource.SequenceNode):
            parent.items.append(node)
            return
        if frame.key is None:
            frame.key = self._as_key(node, frame.path)
            return
        if isinstance(frame.key, yamlsource.ScalarNode):
            frame.pairs.append((frame.key, node))
        frame.key = None

    def _as_key(self, node: yamlsource.Node, path: str) -> yamlsource.ScalarNode | bool:
        if not isinstance(node, yamlsource.ScalarNode):
            self._problem(
                node.location,
                f"a key must be a string, found {yamlsource.describe(node)}",
                "write the key as plain text",
                path,
            )
            return False
        if node.value is None and node.plain:
            self._problem(node.location, "a key cannot be empty", "give the key a name", path)
            return False
        return node

    def _finish_mapping(self, node: yamlsource.MappingNode, frame: _Frame) -> None:
        own = {key.text for key, _ in frame.pairs if not _is_merge(key)}
        entries = node.entries
        for key, value in frame.pairs:
            if _is_merge(key):
                for entry in self._merged(value, frame.path):
                    if entry.key not in own and entry.key not in entries:
                        entries[entry.key] = entry
                continue
            first = entries.get(key.text)
            if first is not None:  # merged entries never hold an own key, so this one is explicit
                where = first.key_location
                self._problem(
                    key.location,
                    f"duplicate key `{yaml_errors.shorten(key.text)}`",
                    f"the first `{yaml_errors.shorten(key.text)}` is at line {where.line}, "
                    f"column {where.column}; remove one of them",
                    f"{frame.path}.{key.text}" if frame.path else key.text,
                )
                continue
            entries[key.text] = yamlsource.Entry(key.text, key.location, value)
        node.size = 1 + sum(entry.value.size for entry in entries.values())

    def _merged(self, value: yamlsource.Node, path: str) -> list[yamlsource.Entry]:
        """The entries a ``<<`` key brings in; earlier sources win, as YAML's merge key says."""
        sources = value.items if isinstance(value, yamlsource.SequenceNode) else [value]
        found: list[yamlsource.Entry] = []
        for source in sources:
            if not isinstance(source, yamlsource.MappingNode):
                self._problem(
                    source.location,
                    f"a merge key (`<<`) takes a mapping or a list of mappings, "
                    f"found {yamlsource.describe(source)}",
                    "merge an alias of a mapping: `<<: *defaults`",
                    path,
                )
                continue
            found.extend(source.entries.values())
        return found

    def _problem(
        self, location: errors.SourceLocation, message: str, hint: str, path: str | None = None
    ) -> None:
        key_path = path if path is not None else self._child_path()
        self.problems.append(
            errors.SpecError(message, location=location, key_path=key_path or None, hint=hint)
        )

    def _fatal(self, event: Any, message: str, hint: str) -> errors.SpecError:
        return errors.SpecError(
            message,
            location=self._location(event),
            key_path=self._child_path() or None,
            hint=hint,
        )


_TAG_HINT = "remove the tag; workflows use plain strings, numbers, booleans, lists and mappings"


def _is_merge(key: yamlsource.ScalarNode) -> bool:
    return key.plain and key.text == "<<"


def _resolve_plain(text: str) -> yamlsource.ScalarValue:
    """A plain scalar under YAML 1.2's core schema."""
    if text in _NULLS:
        return None
    if text in _TRUES:
        return True
    if text in _FALSES:
        return False
    first = text[0]
    if not (first.isdigit() or first in "+-."):
        return text
    if _INT.fullmatch(text):
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        try:
            return int(text)
        except ValueError:  # more digits than Python converts; as large as a float can be
            return float(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    if _INF.fullmatch(text):
        return -math.inf if text.startswith("-") else math.inf
    if _NAN.fullmatch(text):
        return math.nan
    return text


def _tag_text(tag: str) -> str:
    return "!!" + tag.removeprefix(_CORE) if tag.startswith(_CORE) else tag
