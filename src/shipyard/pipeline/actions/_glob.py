"""File patterns with the semantics of ``@actions/glob``, which actions/upload-artifact@v4 uses.

One pattern per line; blank lines and lines starting with ``#`` are skipped; a leading ``!``
excludes, and a later line wins over an earlier one. ``*``, ``?`` and ``[...]`` match within one
path segment, ``**`` matches any number of segments, and dots are not special. A leading ``~`` is
the home directory; a relative pattern is rooted at the working directory; ``.`` and ``..``
segments are refused. A pattern that names a directory also matches everything below it, and a
trailing ``/`` matches directories only. Symbolic links are followed; broken ones and cycles are
skipped. Hidden entries (names starting with ``.``) and everything below a hidden directory are
left out unless asked for, as actions/upload-artifact@v4.4 does.

``match_name`` matches one name against a minimatch pattern (with ``{a,b}`` braces), as
actions/download-artifact matches artifact names. This module reads directories; it never reads
or copies file contents.
"""

from __future__ import annotations

import functools
import os
import re
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path

from shipyard.core.frozen import frozen
from shipyard.pipeline import hashfiles

NONE, DIRECTORY, FILE = 0, 1, 2
ALL = DIRECTORY | FILE


class PatternError(ValueError):
    """A pattern that cannot be used."""


@frozen
class Pattern:
    """One parsed line: absolute path segments (the first is ``/``) and how it applies."""

    negate: bool
    segments: tuple[str, ...]
    directories_only: bool
    search_path: Path
    """The literal directory before the first wildcard: where searching starts."""

    def match(self, parts: tuple[str, ...]) -> int:
        """DIRECTORY and/or FILE when the path is matched, NONE otherwise."""
        if _match_segments(self.segments, parts, partial=False):
            return DIRECTORY if self.directories_only else ALL
        return NONE

    def could_match_below(self, parts: tuple[str, ...]) -> bool:
        """Whether the pattern may match this path or something below it."""
        return _match_segments(self.segments, parts, partial=True)

    def with_descendants(self) -> Pattern:
        """The same pattern extended by ``/**``: a directory's contents."""
        return Pattern(self.negate, (*self.segments, "**"), False, self.search_path)


def parse(text: str, *, cwd: Path, home: Path) -> list[Pattern]:
    """Parse multi-line pattern text; raise ``PatternError`` for a pattern that cannot work."""
    patterns = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        patterns.append(_parse_line(line, cwd=cwd, home=home))
    return patterns


def search_paths(patterns: Sequence[Pattern]) -> list[Path]:
    """The including patterns' search paths, without duplicates and descendants of others."""
    including = [pattern for pattern in patterns if not pattern.negate]
    candidates = {pattern.search_path for pattern in including}
    result: list[Path] = []
    for pattern in including:
        path = pattern.search_path
        if path in result or any(parent in candidates for parent in path.parents):
            continue
        result.append(path)
    return result


def find(patterns: Sequence[Pattern], *, include_hidden: bool) -> list[Path]:
    """Every existing file and directory the patterns match, in a stable depth-first order."""
    expanded: list[Pattern] = []
    for pattern in patterns:
        expanded.append(pattern)
        if pattern.directories_only or pattern.segments[-1] != "**":
            expanded.append(pattern.with_descendants())
    found: list[Path] = []
    for root in search_paths(patterns):
        if os.path.lexists(root):
            _walk(root, expanded, include_hidden, found)
    return found


def match_name(pattern: str, name: str) -> bool:
    """Whether ``name`` matches a minimatch pattern (``*``, ``?``, ``[...]``, ``{a,b}``)."""
    if name.startswith(".") and not pattern.startswith("."):
        return False  # minimatch leaves dot-names to patterns that start with a dot
    return any(_segment_regex(option).fullmatch(name) for option in _expand_braces(pattern))


def _walk(root: Path, patterns: list[Pattern], include_hidden: bool, found: list[Path]) -> None:
    stack: list[tuple[Path, int]] = [(root, 1)]
    chain: list[str] = []  # real paths of the directories being walked, for cycle detection
    while stack:
        path, level = stack.pop()
        parts = path.parts
        kind = _combined_match(patterns, parts)
        partial = bool(kind) or any(
            not pattern.negate and pattern.could_match_below(parts) for pattern in patterns
        )
        if not kind and not partial:
            continue
        if not include_hidden and path.name.startswith("."):
            continue
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            continue  # a broken symbolic link
        if stat.S_ISDIR(mode):
            real = os.path.realpath(path)
            del chain[level - 1 :]
            if real in chain:
                continue  # a symbolic link back up the tree
            chain.append(real)
            if kind & DIRECTORY:
                found.append(path)
            elif not partial:
                continue
            children = sorted(os.listdir(path), reverse=True)
            stack.extend((path / child, level + 1) for child in children)
        elif kind & FILE:
            found.append(path)


def _combined_match(patterns: Iterable[Pattern], parts: tuple[str, ...]) -> int:
    result = NONE
    for pattern in patterns:
        if pattern.negate:
            result &= ~pattern.match(parts)
        else:
            result |= pattern.match(parts)
    return result


def _parse_line(line: str, *, cwd: Path, home: Path) -> Pattern:
    negate = False
    while line.startswith("!"):
        negate = not negate
        line = line[1:].strip()
    if not line:
        raise PatternError("a pattern cannot be only `!`")
    directories_only = line.endswith("/") and line != "/"
    if line == "~" or line.startswith("~/"):
        line = _escape(str(home)) + line[1:]
    elif line == "." or line.startswith("./"):
        line = _escape(str(cwd)) + line[1:]
    elif not line.startswith("/"):
        line = _escape(str(cwd)) + "/" + line
    segments = tuple(segment for segment in line.split("/") if segment)
    literals = [hashfiles.literal_segment(segment) for segment in segments]
    if any(literal in (".", "..") for literal in literals):
        raise PatternError(
            f"invalid pattern {line!r}: relative pathing '.' and '..' is not allowed"
        )
    search = Path("/")
    for literal in literals:
        if literal is None:
            break
        search /= literal
    return Pattern(negate, ("/", *segments), directories_only, search)


def _escape(literal: str) -> str:
    """Escape a literal path so that no character in it acts as a wildcard."""
    return re.sub(r"([\\*?\[\]])", r"\\\1", literal)


def _match_segments(pattern: tuple[str, ...], parts: tuple[str, ...], *, partial: bool) -> bool:
    @functools.cache
    def match(p: int, i: int) -> bool:
        if i == len(parts):
            return partial or all(segment == "**" for segment in pattern[p:])
        if p == len(pattern):
            return False
        segment = pattern[p]
        if segment == "**":
            return match(p + 1, i) or match(p, i + 1)
        if p == 0:
            return segment == parts[0] and match(1, 1)
        return _segment_regex(segment).fullmatch(parts[i]) is not None and match(p + 1, i + 1)

    return match(0, 0)


@functools.lru_cache(maxsize=1024)
def _segment_regex(segment: str) -> re.Pattern[str]:
    """A regular expression for one path segment: ``*``, ``?``, ``[...]`` and ``\\`` escapes."""
    out = []
    index = 0
    while index < len(segment):
        char = segment[index]
        if char == "\\" and index + 1 < len(segment):
            out.append(re.escape(segment[index + 1]))
            index += 2
        elif char == "*":
            out.append("[^/]*")
            index += 1
        elif char == "?":
            out.append("[^/]")
            index += 1
        elif char == "[" and (end := segment.find("]", index + 2)) != -1:
            inner = segment[index + 1 : end]
            negated = inner[:1] in ("!", "^")
            body = inner[1:] if negated else inner
            body = body.replace("\\", "\\\\").replace("[", "\\[")
            out.append(f"[{'^' if negated else ''}{body}]")
            index = end + 1
        else:
            out.append(re.escape(char))
            index += 1
    return re.compile("".join(out), re.DOTALL)


def _expand_braces(pattern: str) -> list[str]:
    """``a{b,c}d`` -> ``abd``, ``acd`` (nested braces expand too)."""
    match = re.search(r"\{([^{}]*,[^{}]*)\}", pattern)
    if match is None:
        return [pattern]
    head, tail = pattern[: match.start()], pattern[match.end() :]
    expanded: list[str] = []
    for option in match[1].split(","):
        expanded.extend(_expand_braces(head + option + tail))
    return expanded
