"""Version numbers and version ranges as the setup-* actions accept them. Pure: no I/O.

``actions/setup-python`` and ``astral-sh/setup-uv`` take node-semver ranges (``3.11``, ``3.x``,
``>=3.11 <3.13``, ``~3.11``, ``^0.5``, ``3.10 - 3.12``, ``3.13-dev``, alternatives joined by
``||``) and, from pyproject.toml, PEP 440 specifiers (``>=3.9,<4``, ``~=3.10``, ``==3.11.*``,
``!=3.12.0``). This module parses both into one ``VersionSpec`` and tests versions such as
``3.13.0rc2`` against it, with node-semver's rule for pre-releases: a pre-release matches only a
range that names a pre-release of the same major.minor.patch. It never probes an interpreter and
never decides which one to use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from shipyard.core.frozen import frozen

# Release phases in sort order. FLOOR sorts below every pre-release of a version: it is
# node-semver's ``-0``, used for exclusive upper bounds such as ``<3.13`` (= ``<3.13.0-0``).
FLOOR, ALPHA, BETA, CANDIDATE, FINAL = range(5)

_PHASE_NAMES = {ALPHA: "a", BETA: "b", CANDIDATE: "rc"}
_PHASE_WORDS = {
    "a": ALPHA,
    "alpha": ALPHA,
    "b": BETA,
    "beta": BETA,
    "c": CANDIDATE,
    "rc": CANDIDATE,
    "pre": CANDIDATE,
    "preview": CANDIDATE,
}

_VERSION = re.compile(
    r"""v?(?P<major>\d+)(?:\.(?P<minor>\d+))?(?:\.(?P<patch>\d+))?
    (?:-?(?P<phase>alpha|beta|preview|pre|rc|a|b|c)\.?(?P<serial>\d*))?
    (?:\+.*)?""",
    re.VERBOSE,
)
_PART = r"(?:\d+|[xX*])"
_PARTIAL = re.compile(
    rf"""v?(?P<parts>{_PART}(?:\.{_PART}){{0,2}})
    (?:-(?P<dev>dev|0)|-?(?P<phase>alpha|beta|preview|pre|rc|a|b|c)\.?(?P<serial>\d*))?
    (?P<star>\.\*)?""",
    re.VERBOSE,
)
_OPERATOR = re.compile(r"(===|~=|==|!=|<=|>=|<|>|=|~|\^)?\s*(\S+)$")


class VersionError(ValueError):
    """A version or version range that cannot be understood."""


@dataclass(frozen=True, order=True, slots=True)
class Version:
    """A release number with an optional pre-release: ``3.12.1``, ``3.13.0rc2``."""

    major: int
    minor: int = 0
    patch: int = 0
    phase: int = FINAL
    serial: int = 0

    @classmethod
    def parse(cls, text: str) -> Version:
        """Parse ``3.12.1``, ``3.13.0rc2``, ``3.13.0-rc.2`` or ``0.5`` (missing parts are 0)."""
        match = _VERSION.fullmatch(text.strip())
        if match is None:
            raise VersionError(f"{text!r} is not a version number")
        phase = _PHASE_WORDS[match["phase"]] if match["phase"] else FINAL
        return cls(
            int(match["major"]),
            int(match["minor"] or 0),
            int(match["patch"] or 0),
            phase,
            int(match["serial"] or 0),
        )

    @property
    def is_prerelease(self) -> bool:
        return self.phase != FINAL

    @property
    def release(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.phase in _PHASE_NAMES:
            text += f"{_PHASE_NAMES[self.phase]}{self.serial}"
        return text


@frozen
class _Interval:
    """Versions between two bounds (None: unbounded); ``excluded`` inverts it (``!=``)."""

    low: Version | None = None
    low_inclusive: bool = True
    high: Version | None = None
    high_inclusive: bool = False
    excluded: bool = False

    def contains(self, version: Version) -> bool:
        inside = True
        if self.low is not None:
            inside = version >= self.low if self.low_inclusive else version > self.low
        if inside and self.high is not None:
            inside = version <= self.high if self.high_inclusive else version < self.high
        return inside != self.excluded


@frozen
class _Alternative:
    """One ``||`` branch: every interval must hold."""

    intervals: tuple[_Interval, ...]
    prerelease_releases: frozenset[tuple[int, int, int]]
    """Releases whose pre-releases this branch admits (it names one of them)."""

    def matches(self, version: Version) -> bool:
        if version.is_prerelease and version.release not in self.prerelease_releases:
            return False
        return all(interval.contains(version) for interval in self.intervals)


@frozen
class _Partial:
    """A version as written in a range: missing or wildcard parts are None."""

    parts: tuple[int | None, ...]
    phase: int
    serial: int
    dev: bool
    """Written ``3.13-dev`` or ``3.13.0-0``: from the first pre-release of that release on."""

    @property
    def known(self) -> tuple[int, ...]:
        """The leading parts that are numbers (``3.x.1`` -> ``(3,)``)."""
        known: list[int] = []
        for part in self.parts:
            if part is None:
                break
            known.append(part)
        return tuple(known)

    @property
    def is_full(self) -> bool:
        return len(self.known) == 3

    def floor(self) -> Version:
        """The lowest version this partial names (``3.11`` -> ``3.11.0``)."""
        known = (*self.known, 0, 0, 0)
        if self.dev:
            return Version(known[0], known[1], known[2], FLOOR)
        return Version(known[0], known[1], known[2], self.phase, self.serial)

    def next_floor(self, depth: int | None = None) -> Version:
        """The floor of the next release at ``depth`` parts (``3.11`` -> ``3.12.0-0``)."""
        known = list(self.known)
        depth = len(known) if depth is None else depth
        bumped = [*known[:depth], 0, 0, 0][:3]
        bumped[depth - 1] += 1
        return Version(bumped[0], bumped[1], bumped[2], FLOOR)


@frozen
class VersionSpec:
    """A parsed version range; ``text`` is what was written."""

    text: str
    alternatives: tuple[_Alternative, ...]
    exact: Version | None
    """The one version the range names, when it is a single full version (``0.5.4``)."""

    @classmethod
    def parse(cls, text: str) -> VersionSpec:
        """Parse a node-semver range or PEP 440 specifier; raise ``VersionError`` if invalid."""
        source = text.strip()
        alternatives = tuple(_parse_alternative(part) for part in source.split("||"))
        exact = None
        single = _PARTIAL.fullmatch(source.lstrip("=v"))
        if single is not None and len(alternatives) == 1:
            partial = _to_partial(single)
            if partial.is_full and not partial.dev and not single["star"]:
                exact = partial.floor()
        return cls(source, alternatives, exact)

    def matches(self, version: Version) -> bool:
        return any(alternative.matches(version) for alternative in self.alternatives)

    def best(self, versions: Iterable[Version]) -> Version | None:
        """The highest version that matches."""
        matching = [version for version in versions if self.matches(version)]
        return max(matching) if matching else None

    def __str__(self) -> str:
        return self.text


def _parse_alternative(text: str) -> _Alternative:
    tokens = re.sub(r"(===|~=|==|!=|<=|>=|<|>|=|~|\^)\s+", r"\1", text.replace(",", " ")).split()
    intervals: list[_Interval] = []
    prerelease_releases: set[tuple[int, int, int]] = set()
    index = 0
    while index < len(tokens):
        if index + 2 < len(tokens) and tokens[index + 1] == "-":
            low, high = _partial(tokens[index]), _partial(tokens[index + 2])
            partials = [low, high]
            intervals.append(_hyphen(low, high))
            index += 3
        else:
            operator, partial, star = _comparator(tokens[index])
            partials = [partial]
            intervals.append(_interval(operator, partial, star))
            index += 1
        for partial in partials:
            if partial.known and (partial.dev or partial.phase != FINAL):
                prerelease_releases.add(partial.floor().release)
    return _Alternative(tuple(intervals), frozenset(prerelease_releases))


def _comparator(token: str) -> tuple[str, _Partial, bool]:
    match = _OPERATOR.fullmatch(token)
    if match is None or match[1] == "===":
        raise VersionError(f"{token!r} is not a version or a version range")
    found = _PARTIAL.fullmatch(match[2])
    if found is None:
        raise VersionError(f"{token!r} is not a version or a version range")
    return match[1] or "", _to_partial(found), bool(found["star"])


def _partial(token: str) -> _Partial:
    found = _PARTIAL.fullmatch(token)
    if found is None or found["star"]:
        raise VersionError(f"{token!r} is not a version")
    return _to_partial(found)


def _to_partial(found: re.Match[str]) -> _Partial:
    parts = tuple(None if part in "xX*" else int(part) for part in found["parts"].split("."))
    phase = _PHASE_WORDS[found["phase"]] if found["phase"] else FINAL
    return _Partial(parts, phase, int(found["serial"] or 0), dev=found["dev"] is not None)


def _interval(operator: str, partial: _Partial, star: bool) -> _Interval:
    known = partial.known
    if not known:  # `*`, `x`: anything (``!=*`` is nonsense; treat it as anything too)
        return _Interval()
    star = star or None in partial.parts  # ``==3.11.*`` and ``==3.11.x`` alike
    floor = partial.floor()
    full = partial.is_full and not star
    if operator in ("", "=") or (operator == "==" and star):
        return _x_range(partial) if not full else _Interval(floor, True, floor, True)
    if operator == "==":  # PEP 440: missing parts are zeros
        return _Interval(floor, True, floor, True)
    if operator == "!=":
        if full or not star:
            return _Interval(floor, True, floor, True, excluded=True)
        return _Interval(floor, True, partial.next_floor(), False, excluded=True)
    if operator == ">=":
        return _Interval(low=floor)
    if operator == ">":
        return (
            _Interval(low=floor, low_inclusive=False) if full else _Interval(partial.next_floor())
        )
    if operator == "<":
        if full:
            return _Interval(high=floor)
        return _Interval(high=Version(*floor.release, FLOOR))
    if operator == "<=":
        return _Interval(high=floor, high_inclusive=True) if full else _x_range(partial, upper=True)
    if operator == "~":
        return _Interval(floor, True, partial.next_floor(min(len(known), 2)), False)
    if operator == "^":
        return _Interval(floor, True, partial.next_floor(_caret_depth(known)), False)
    if operator == "~=":
        if len(known) < 2:
            raise VersionError(f"'~={partial_text(partial)}' needs at least major.minor")
        return _Interval(floor, True, partial.next_floor(len(known) - 1), False)
    raise VersionError(f"unknown operator {operator!r}")  # pragma: no cover - regex forbids it


def _x_range(partial: _Partial, *, upper: bool = False) -> _Interval:
    """``3.11`` (or ``<=3.11`` when ``upper``): every 3.11.x, no 3.12 pre-release."""
    high = partial.next_floor()
    if upper:
        return _Interval(high=high)
    return _Interval(partial.floor(), True, high, False)


def _hyphen(low: _Partial, high: _Partial) -> _Interval:
    if high.is_full:
        return _Interval(low.floor(), True, high.floor(), True)
    return _Interval(low.floor(), True, high.next_floor() if high.known else None, False)


def _caret_depth(known: tuple[int, ...]) -> int:
    """How many leading parts ``^`` keeps fixed: up to the first non-zero one."""
    for depth, part in enumerate(known, start=1):
        if part != 0:
            return depth
    return len(known)


def partial_text(partial: _Partial) -> str:
    return ".".join("x" if part is None else str(part) for part in partial.parts)
