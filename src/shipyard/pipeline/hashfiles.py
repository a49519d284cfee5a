"""``hashFiles()``: GitHub's hash of the workspace files that match glob patterns. Reads files.

The pure expression language reaches this module through ``EvaluationHooks.hash_files``. The rules
are those of actions/runner's ``hashFiles`` (built on ``@actions/glob``):

- Each argument may hold several patterns, one per line; blank lines and ``#`` comments are
  skipped. A first argument ``--follow-symbolic-links`` makes the search follow symbolic links.
- Patterns are relative to the workspace (absolute ones are allowed); ``*``, ``?``, ``[...]`` match
  within a path segment, ``**`` any number of segments, hidden files included. A pattern also
  matches everything below a directory it matches. ``!`` excludes what a pattern matches; later
  patterns win. ``.`` and ``..`` segments are an error.
- Only regular files inside the workspace are hashed. The result is the SHA-256 of the
  concatenated SHA-256 digests of the files, taken in the search order: depth first, the entries
  of each directory sorted by their bytes, so ``a/b`` comes before ``a.txt``. No match gives ``""``.
"""

from __future__ import annotations

import enum
import hashlib
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from shipyard.core import errors

FOLLOW_SYMBOLIC_LINKS: Final = "--follow-symbolic-links"
_CHUNK: Final = 1 << 20


class HashFilesError(errors.UserError):
    """A ``hashFiles()`` pattern is invalid, or a matched file cannot be read."""


class _Match(enum.IntFlag):
    NONE = 0
    DIRECTORY = 1
    FILE = 2
    ALL = 3


class _Globstar:
    """The ``**`` segment: any number of path segments, including none."""


GLOBSTAR: Final = _Globstar()


class _Wildcard:
    """``*`` (any run of characters) or ``?`` (one character) in a glob segment."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


_STAR: Final = _Wildcard("*")
_ANY: Final = _Wildcard("?")


@dataclass(frozen=True)
class _CharacterSet:
    """``[abc]``, ``[a-z]``, ``[!abc]``: one character in (or, negated, not in) the ranges."""

    ranges: tuple[tuple[str, str], ...]
    negate: bool

    def __contains__(self, character: object) -> bool:
        inside = any(low <= character <= high for low, high in self.ranges)  # type: ignore[operator]
        return inside != self.negate


@dataclass(frozen=True)
class _Glob:
    """A segment with ``*``, ``?`` or ``[...]`` in it.

    Matched with the two-pointer wildcard algorithm, so a pattern such as ``*a*a*a*b`` costs at
    most the product of the two lengths (a regular expression could backtrack exponentially).
    """

    items: tuple[str | _CharacterSet | _Wildcard, ...]  # a literal character, a set, * or ?

    def match(self, name: str) -> bool:
        items = self.items
        item = position = 0
        star_item, star_position = -1, 0
        while position < len(name):
            if item < len(items) and items[item] is _STAR:
                star_item, star_position = item, position
                item += 1
            elif item < len(items) and _one(items[item], name[position]):
                item += 1
                position += 1
            elif star_item >= 0:
                star_position += 1
                item, position = star_item + 1, star_position
            else:
                return False
        while item < len(items) and items[item] is _STAR:
            item += 1
        return item == len(items)


def _one(item: str | _CharacterSet | _Wildcard, character: str) -> bool:
    if isinstance(item, str):
        return item == character
    if isinstance(item, _CharacterSet):
        return character in item
    return item is _ANY


def _parse_glob(segment: str) -> _Glob:
    """A segment with glob characters (``\\`` escapes the next character)."""
    items: list[str | _CharacterSet | _Wildcard] = []
    index = 0
    while index < len(segment):
        character = segment[index]
        if character == "\\" and index + 1 < len(segment):
            items.append(segment[index + 1])
            index += 2
        elif character == "*":
            if not items or items[-1] is not _STAR:
                items.append(_STAR)
            index += 1
        elif character == "?":
            items.append(_ANY)
            index += 1
        elif character == "[" and (closing := _set_end(segment, index)) > 0:
            items.append(_character_set(segment[index + 1 : closing]))
            index = closing + 1
        else:
            items.append(character)
            index += 1
    return _Glob(tuple(items))


def _character_set(members: str) -> _CharacterSet:
    negate = members[:1] in ("!", "^")
    characters: list[str] = []
    index = 1 if negate else 0
    while index < len(members):
        if members[index] == "\\" and index + 1 < len(members):
            index += 1
        characters.append(members[index])
        index += 1
    ranges: list[tuple[str, str]] = []
    index = 0
    while index < len(characters):
        if index + 2 < len(characters) and characters[index + 1] == "-":
            ranges.append((characters[index], characters[index + 2]))
            index += 3
        else:
            ranges.append((characters[index], characters[index]))
            index += 1
    return _CharacterSet(tuple(ranges), negate)


def _set_end(segment: str, start: int) -> int:
    """The index of the ``]`` closing the set opened at ``start`` (a leading ``]`` is a member)."""
    index = start + 1
    if index < len(segment) and segment[index] in "!^":
        index += 1
    if index < len(segment) and segment[index] == "]":
        index += 1
    return segment.find("]", index)


Segment = str | _Glob | _Globstar


@dataclass(frozen=True)
class _Pattern:
    """One rooted pattern: segments of an absolute path, literal or glob."""

    negate: bool
    segments: tuple[Segment, ...]
    directories_only: bool

    @property
    def search_path(self) -> str:
        """The literal path before the first glob segment."""
        literal: list[str] = []
        for segment in self.segments:
            if not isinstance(segment, str):
                break
            literal.append(segment)
        return "/" + "/".join(literal)

    def match(self, parts: Sequence[str]) -> _Match:
        if not _matches(parts, self.segments, partial=False):
            return _Match.NONE
        return _Match.DIRECTORY if self.directories_only else _Match.ALL

    def partial_match(self, parts: Sequence[str]) -> bool:
        return _matches(parts, self.segments, partial=True)


def _matches(parts: Sequence[str], segments: Sequence[Segment], *, partial: bool) -> bool:
    """Whether path segments match pattern segments (or could, below them, when ``partial``)."""
    part = position = 0
    star_position = star_part = -1
    while part < len(parts):
        if position < len(segments) and segments[position] is GLOBSTAR:
            star_position, star_part = position, part
            position += 1
            continue
        if position < len(segments) and _segment_matches(segments[position], parts[part]):
            position += 1
            part += 1
            continue
        if star_position >= 0:
            star_part += 1
            position, part = star_position + 1, star_part
            continue
        return False
    if partial:
        return True
    while position < len(segments) and segments[position] is GLOBSTAR:
        position += 1
    return position == len(segments)


def _segment_matches(segment: Segment, part: str) -> bool:
    if isinstance(segment, str):
        return segment == part
    if isinstance(segment, _Glob):
        return segment.match(part)
    return True


def literal_segment(segment: str) -> str | None:
    """The segment as a literal name, or None when it holds a glob (``*``, ``?``, a set)."""
    literal: list[str] = []
    index = 0
    while index < len(segment):
        character = segment[index]
        if character == "\\" and index + 1 < len(segment):
            literal.append(segment[index + 1])
            index += 2
            continue
        if character in "*?":
            return None
        if character == "[":
            closing = segment.find("]", index + 1)
            if closing > index + 1:
                members = segment[index + 1 : closing]
                if len(members) > 1:
                    return None
                literal.append(members)
                index = closing + 1
                continue
        literal.append(character)
        index += 1
    return "".join(literal)


def _compile(line: str, workspace: str) -> list[_Pattern]:
    """A pattern line as rooted patterns (the pattern, and its implicit ``/**`` descendants)."""
    text, negate = line, False
    while text.startswith("!"):
        negate = not negate
        text = text[1:].strip()
    if not text:
        raise HashFilesError(f"Invalid pattern '{line}': the pattern is empty")
    written = [segment for segment in text.split("/") if segment]
    literals = [literal_segment(segment) for segment in written]
    for number, literal in enumerate(literals):
        if literal == ".." or (literal == "." and (number > 0 or text.startswith("/"))):
            raise HashFilesError(
                f"Invalid pattern '{text}'. Relative pathing '.' and '..' is not allowed.",
                hint="write patterns relative to the workspace, e.g. 'src/**/*.py'",
            )
    if text.startswith("/"):
        root: list[str] = []
    elif literals[:1] == ["~"]:
        root, written, literals = _parts(os.path.expanduser("~")), written[1:], literals[1:]
    else:
        root = _parts(workspace)
        if literals[:1] == ["."]:
            written, literals = written[1:], literals[1:]
    segments: list[Segment] = list(root)
    for segment, literal in zip(written, literals, strict=True):
        if segment == "**":
            segments.append(GLOBSTAR)
        else:
            segments.append(literal if literal is not None else _parse_glob(segment))
    directories_only = text.endswith("/")
    patterns = [_Pattern(negate, tuple(segments), directories_only)]
    if directories_only or segments[-1:] != [GLOBSTAR]:
        patterns.append(_Pattern(negate, (*segments, GLOBSTAR), False))
    return patterns


def _parts(path: str) -> list[str]:
    return [part for part in path.split("/") if part]


def _search_paths(patterns: Sequence[_Pattern]) -> list[str]:
    """Where to start searching: each include pattern's literal prefix, minus those below another
    one, in the order of the patterns."""
    candidates = {pattern.search_path for pattern in patterns if not pattern.negate}
    result: list[str] = []
    for pattern in patterns:
        path = pattern.search_path
        if pattern.negate or path in result:
            continue
        current, parent = path, os.path.dirname(path)
        while parent != current and parent not in candidates:
            current, parent = parent, os.path.dirname(parent)
        if parent == current:  # reached the root without meeting another search path
            result.append(path)
    return result


def _combined_match(patterns: Sequence[_Pattern], parts: Sequence[str]) -> _Match:
    result = _Match.NONE
    for pattern in patterns:
        if pattern.negate:
            result &= ~pattern.match(parts)
        else:
            result |= pattern.match(parts)
    return result


def _inside(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def _matching_files(patterns: Sequence[_Pattern], workspace: str, *, follow: bool) -> Iterator[str]:
    """Matched paths in GitHub's search order (depth first, names sorted by their bytes)."""
    stack = [(path, 1) for path in reversed(_search_paths(patterns))]
    chain: list[str] = []  # real paths of the directories being walked, to stop symlink cycles
    while stack:
        path, level = stack.pop()
        parts = _parts(path)
        match = _combined_match(patterns, parts)
        if not match and not any(
            not pattern.negate and pattern.partial_match(parts) for pattern in patterns
        ):
            continue
        try:
            info = os.stat(path) if follow else os.lstat(path)
        except FileNotFoundError:
            continue  # no such path, or (when following links) a broken link
        except OSError as error:
            raise HashFilesError(f"cannot read '{path}': {error.strerror}") from error
        if stat.S_ISDIR(info.st_mode):
            if follow:
                real = os.path.realpath(path)
                del chain[level - 1 :]
                if real in chain:
                    continue
                chain.append(real)
            stack.extend((child, level + 1) for child in reversed(_children(path, workspace)))
        elif match & _Match.FILE:
            yield path


def _children(directory: str, workspace: str) -> list[str]:
    """The entries of a directory, sorted by their bytes; only those that can lead into the
    workspace when the directory is above it (files outside the workspace are never hashed)."""
    if not _inside(directory, workspace):
        if not _inside(workspace, directory):
            return []
        below = workspace[len(directory.rstrip("/")) + 1 :].split("/", maxsplit=1)[0]
        return [os.path.join(directory, below)]
    try:
        names = os.listdir(directory)
    except OSError as error:
        raise HashFilesError(f"cannot list '{directory}': {error.strerror}") from error
    return [os.path.join(directory, name) for name in sorted(names, key=os.fsencode)]


def _digest(path: str) -> bytes | None:
    """The SHA-256 of a regular file's content (following a link); None for anything else."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            return None
        digest = hashlib.sha256()
        with open(path, "rb") as stream:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
        return digest.digest()
    except FileNotFoundError as error:
        raise HashFilesError(
            f"cannot read '{path}': it is a broken symbolic link",
            hint=f"remove the link, exclude it with '!', or pass '{FOLLOW_SYMBOLIC_LINKS}'",
        ) from error
    except OSError as error:
        raise HashFilesError(f"cannot read '{path}': {error.strerror}") from error


def hash_files(workspace: Path, patterns: Sequence[str]) -> str:
    """GitHub's ``hashFiles(patterns...)`` for a workspace: a hex SHA-256, or ``""`` when no file
    matches. Raises HashFilesError for an invalid pattern or an unreadable file."""
    arguments = list(patterns)
    follow = False
    if arguments and arguments[0].startswith("--"):
        if arguments[0].lower() != FOLLOW_SYMBOLIC_LINKS:
            raise HashFilesError(
                f"Invalid glob option {arguments[0]}, available option: '{FOLLOW_SYMBOLIC_LINKS}'."
            )
        follow = True
        arguments = arguments[1:]
    root = str(Path(workspace).resolve())
    compiled: list[_Pattern] = []
    for argument in arguments:
        for raw_line in argument.split("\n"):
            line = raw_line.strip()
            if line and not line.startswith("#"):
                compiled.extend(_compile(line, root))
    total = hashlib.sha256()
    found = False
    for path in _matching_files(compiled, root, follow=follow):
        if not path.startswith(root.rstrip("/") + "/"):
            continue
        digest = _digest(path)
        if digest is not None:
            total.update(digest)
            found = True
    return total.hexdigest() if found else ""
