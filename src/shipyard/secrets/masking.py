"""Masking secret values in everything a run shows or stores, as GitHub's runner masks them.

Pure: no I/O. ``Masker`` holds the values; ``StreamMasker`` masks output that arrives in pieces.

The rules are those of GitHub's ``SecretMasker`` (actions/runner):

- A value that is empty or only whitespace is ignored. A value spanning several lines is masked
  line by line: each of its non-empty lines, trimmed, is registered as a value of its own.
- Every registered value is also masked in the encodings the runner registers with it:
  base64 of its UTF-8 bytes, and of those bytes without the first one and without the first two
  (so ``base64("user:" + secret)`` is masked too, from where the secret starts); ``"`` escaped as
  ``\\"`` (command lines); ``'`` doubled (expression strings); the inside of a JSON string;
  URI data escaping (RFC 3986, UTF-8); XML escaping; the value without its surrounding double
  quotes when it is longer than 8 characters; and the two sections around ``&`` that PowerShell
  prints separately when it reports an error (each masked when 6 characters or longer).
- Every occurrence of every value is found, overlapping ones included, and each run of
  overlapping or touching occurrences becomes one ``***``.
- GitHub masks one line at a time, so a string with a line break never matches. Shipyard drops
  such strings (a multi-line value itself, or its XML escaping) and keeps their lines, so masking
  a multi-line text gives what GitHub gives for each of its lines.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from collections.abc import Iterable, Iterator

from shipyard.core.frozen import frozen

MASK = "***"

MIN_MASKED_LENGTH = 4
"""Shorter values are not masked (as GitHub does): masking ``ab`` would hide half of every log."""
# ``partial_start`` looks suffixes up among the patterns' prefixes up to this length.
_PREFIX_PROBE = 32
_LINE_BREAKS = re.compile(r"[\r\n]")
_XML_ESCAPES = str.maketrans({"<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;", "&": "&amp;"})


class Masker:
    """Values that must never appear in output. Thread-safe enough for one asyncio loop.

    ``add`` never blocks ``mask``: the search structures are rebuilt lazily and swapped in whole.
    """

    def __init__(self, min_length: int = MIN_MASKED_LENGTH) -> None:
        self._min_length = min_length
        self._values: set[str] = set()
        self._patterns: set[str] = set()
        self._index: _Index | None = _Index.build(())

    @property
    def values(self) -> frozenset[str]:
        """The registered values: each value added and each line of a multi-line one."""
        return frozenset(self._values)

    def add(self, value: str) -> bool:
        """Register a secret, its lines and its encodings; empty or blank values are ignored.

        Returns False when ``value`` is shorter than ``min_length`` (4 by default) and so is
        not masked: the caller warns about it, naming the secret. Lines of a multi-line value
        that are that short are skipped the same way.
        """
        if not value.strip():
            return True
        if len(value.strip()) < self._min_length:
            return False
        candidates = [value]
        if _LINE_BREAKS.search(value):
            candidates.extend(line.strip() for line in _LINE_BREAKS.split(value))
        for candidate in candidates:
            if len(candidate.strip()) < self._min_length or candidate in self._values:
                continue
            self._values.add(candidate)
            for pattern in encodings(candidate):
                if pattern and not _LINE_BREAKS.search(pattern) and pattern not in self._patterns:
                    self._patterns.add(pattern)
                    self._index = None
        return True

    def mask(self, text: str) -> str:
        """``text`` with every occurrence of a value (or an encoding of one) replaced by ``***``."""
        return _render(text, self.spans(text))

    def spans(self, text: str) -> list[tuple[int, int]]:
        """The ``[start, end)`` ranges ``mask`` replaces: sorted, disjoint and not touching."""
        index = self._current_index()
        if not text or not index.patterns:
            return []
        return _anchored_spans(text, index)

    def partial_start(self, text: str) -> int:
        """Where the longest suffix of ``text`` that could still grow into a value starts.

        ``len(text)`` when no suffix is the beginning of a longer value. Values hold no line
        break, so only the text after the last one is examined.
        """
        index = self._current_index()
        end = len(text)
        last_break = max(text.rfind("\n"), text.rfind("\r"))
        start = max(last_break + 1, end - index.longest + 1)
        if end - start >= 2:
            # Only prefix lengths whose last two characters are the text's last two can match.
            for length in index.prefix_ends.get(text[-2:], ()):
                if end - length >= start and _is_proper_prefix(index, text[end - length :]):
                    return end - length
        if end - start >= 1 and text[-1] in index.prefixes:
            return end - 1
        return end

    def _current_index(self) -> _Index:
        index = self._index
        if index is None:
            index = _Index.build(self._patterns)
            self._index = index
        return index


class StreamMasker:
    """Masks a stream of arbitrary chunks: a secret split across two chunks is still masked.

    The concatenated output equals ``masker.mask`` of the concatenated input. A chunk is emitted
    at once except for a tail that could still become (or touch) an occurrence: the start of a
    value, or a masked run that an occurrence starting right after it would extend. A line
    break ends every such tail, so complete lines are never held back.
    """

    def __init__(self, masker: Masker) -> None:
        self._masker = masker
        self._pending = ""

    def feed(self, chunk: str) -> str:
        """Text safe to emit now; holds back only a tail that could be the start of a secret."""
        text = self._pending + chunk
        hold = self._masker.partial_start(text)
        ready = hold
        final: list[tuple[int, int]] = []
        for start, end in self._masker.spans(text):
            if end >= hold:
                ready = min(hold, start)
                break
            final.append((start, end))
        self._pending = text[ready:]
        return _render(text[:ready], final)

    def flush(self) -> str:
        """Everything held back, masked: the stream has ended."""
        text, self._pending = self._pending, ""
        return self._masker.mask(text)


def encodings(value: str) -> Iterator[str]:
    """``value`` and the encoded forms of it that GitHub's runner masks as well (may repeat)."""
    yield value
    data = _utf8(value)
    for shift in (0, 1, 2):
        yield base64.b64encode(data[shift:] if len(data) > shift else data).decode("ascii")
    yield value.replace('"', '\\"')
    yield value.replace("'", "''")
    yield _json_escape(value)
    yield urllib.parse.quote(data, safe="")
    yield value.translate(_XML_ESCAPES)
    if len(value) > 8 and value.startswith('"') and value.endswith('"'):
        yield value[1:-1]
    yield from _ampersand_sections(value)


@frozen
class _Index:
    """Search structures for one set of patterns, built once and never changed.

    Each pattern is found from its *anchor*, its least common character in log text: one
    compiled regex skips (in C) every position holding no anchor, and at an anchor checks the
    pattern's characters before it with a fixed-width lookbehind and those after it directly.
    Where it matches, every pattern with that anchor is checked there, so overlapping
    occurrences are all found. Anchoring at the first character instead would stop at nearly
    every letter of a log; anchors like ``Q`` or ``%`` make the regex skip most of it.
    """

    patterns: tuple[str, ...]
    regex: re.Pattern[str] | None
    # Anchor character -> (pattern, the anchor's offset in it).
    anchored: dict[str, tuple[tuple[str, int], ...]]
    # Every proper prefix of a pattern, up to _PREFIX_PROBE characters long.
    prefixes: frozenset[str]
    # The first _PREFIX_PROBE characters of each longer pattern -> those patterns.
    heads: dict[str, tuple[str, ...]]
    # The last two characters of a proper prefix -> the lengths such prefixes have, longest first.
    prefix_ends: dict[str, tuple[int, ...]]
    longest: int

    @classmethod
    def build(cls, patterns: Iterable[str]) -> _Index:
        ordered = tuple(sorted(patterns, key=lambda p: (-len(p), p)))
        prefixes = {p[:size] for p in ordered for size in range(1, min(len(p), _PREFIX_PROBE + 1))}
        heads: dict[str, list[str]] = {}
        for pattern in ordered:
            if len(pattern) > _PREFIX_PROBE + 1:
                heads.setdefault(pattern[:_PREFIX_PROBE], []).append(pattern)
        prefix_ends: dict[str, set[int]] = {}
        for pattern in ordered:
            for size in range(2, len(pattern)):
                prefix_ends.setdefault(pattern[size - 2 : size], set()).add(size)
        anchored: dict[str, list[tuple[str, int]]] = {}
        for pattern in ordered:
            offset = _anchor(pattern)
            anchored.setdefault(pattern[offset], []).append((pattern, offset))
        return cls(
            patterns=ordered,
            regex=_anchored_regex(anchored) if ordered else None,
            anchored={char: tuple(group) for char, group in anchored.items()},
            prefixes=frozenset(prefixes),
            heads={head: tuple(group) for head, group in heads.items()},
            prefix_ends={
                end: tuple(sorted(sizes, reverse=True)) for end, sizes in prefix_ends.items()
            },
            longest=len(ordered[0]) if ordered else 0,
        )


# Characters from the most to the least common in log text (a fixed guess: English words,
# numbers, timestamps, paths, common upper-case words); any other character is rarer still.
_COMMON = " etaoinsrlhdcumpfgywbvkxjqz0123456789:-./_=,[]()'\"\tTZEAOINSRLHDCUMPFGYWBVKXJQ"
_RANK = {char: rank for rank, char in enumerate(_COMMON)}


def _anchor(pattern: str) -> int:
    """The offset of ``pattern``'s least common character (the first such, on a tie)."""
    rarest = len(_COMMON)
    best, best_rank = 0, -1
    for offset, char in enumerate(pattern):
        rank = _RANK.get(char, rarest)
        if rank > best_rank:
            best, best_rank = offset, rank
    return best


def _anchored_regex(anchored: dict[str, list[tuple[str, int]]]) -> re.Pattern[str]:
    """Matches at an anchor where at least one pattern with that anchor occurs.

    After the anchor, each alternative starts with the literal next character (sre rejects a
    non-matching alternative on that one comparison), then a lookbehind checks the whole pattern.
    """
    groups = []
    for char, group in anchored.items():
        alternatives = []
        for pattern, offset in sorted(group, key=lambda item: item[1] == len(item[0]) - 1):
            after = re.escape(pattern[offset + 1 :])
            alternatives.append(after + (f"(?<={re.escape(pattern)})" if offset else ""))
        groups.append(re.escape(char) + "(?:" + "|".join(alternatives) + ")")
    return re.compile("|".join(groups), re.DOTALL)


def _is_proper_prefix(index: _Index, tail: str) -> bool:
    """Whether ``tail`` is the beginning of a longer pattern."""
    if len(tail) <= _PREFIX_PROBE:
        return tail in index.prefixes
    group = index.heads.get(tail[:_PREFIX_PROBE], ())
    return any(len(pattern) > len(tail) and pattern.startswith(tail) for pattern in group)


def _anchored_spans(text: str, index: _Index) -> list[tuple[int, int]]:
    """Every occurrence of every pattern, overlapping ones included, merged into runs."""
    assert index.regex is not None
    found: list[tuple[int, int]] = []
    search, anchored = index.regex.search, index.anchored
    position = 0
    while (hit := search(text, position)) is not None:
        at = hit.start()
        for pattern, offset in anchored[text[at]]:
            start = at - offset
            if start >= 0 and text.startswith(pattern, start):
                found.append((start, start + len(pattern)))
        position = at + 1
    return _merge(found)


def _merge(occurrences: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(occurrences):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _render(text: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return text
    pieces, position = [], 0
    for start, end in spans:
        pieces.append(text[position:start])
        pieces.append(MASK)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def _utf8(value: str) -> bytes:
    """UTF-8 bytes as .NET encodes them: a lone surrogate becomes U+FFFD."""
    if value.isascii():
        return value.encode("ascii")
    utf16 = value.encode("utf-16-le", "surrogatepass")
    return utf16.decode("utf-16-le", "replace").encode("utf-8")


def _json_escape(value: str) -> str:
    """The inside of a JSON string as Newtonsoft.Json writes it (which also escapes U+0085,
    U+2028 and U+2029)."""
    escaped = json.dumps(value, ensure_ascii=False)[1:-1]
    for char in ("\u0085", "\u2028", "\u2029"):
        escaped = escaped.replace(char, f"\\u{ord(char):04x}")
    return escaped


def _ampersand_sections(value: str) -> Iterator[str]:
    """The two parts PowerShell colours separately in an error about ``value`` (6+ characters).

    With ``&+`` in the value: up to and including the first ``&+``, and what follows it minus
    the one letter PowerShell colours; otherwise the parts before and after the last ``&``.
    """
    if "&" not in value:
        return
    if "&+" in value:
        cut = value.index("&+") + 2
        head, tail = value[:cut], value[cut + 1 :]
    else:
        cut = value.rindex("&") + 1
        head, tail = value[:cut], value[cut:]
    for section in (head, tail):
        if len(section) >= 6:
            yield section
