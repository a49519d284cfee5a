"""Whether a package version is affected by an OSV advisory. Pure: no I/O.

Exact version semantics per ecosystem: PEP 440 (``packaging``) for PyPI, Semantic Versioning 2.0
precedence for npm. ``ECOSYSTEM`` and ``SEMVER`` ranges are evaluated as the OSV schema says:
events sorted by version, ``introduced`` opens a range, ``fixed`` closes it (exclusive),
``last_affected`` closes it (inclusive); ``GIT`` ranges need commits and are ignored. Versions
listed under ``affected[].versions`` also count. A withdrawn advisory affects nothing.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from packaging import utils as packaging_utils
from packaging import version as pep440

from shipyard.core.frozen import frozen

_SEMVER = re.compile(
    r"v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?"
    r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?\Z"
)


class InvalidVersion(ValueError):
    """A version string the ecosystem's rules cannot order."""


@functools.total_ordering
@frozen
class SemVer:
    """A Semantic Versioning 2.0 version, ordered by its precedence rules (build ignored)."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[int | str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> SemVer:
        found = _SEMVER.match(text.strip())
        if found is None:
            raise InvalidVersion(text)
        pre: tuple[int | str, ...] = ()
        if found.group(4):
            pre = tuple(int(p) if p.isdigit() else p for p in found.group(4).split("."))
        return cls(int(found.group(1)), int(found.group(2)), int(found.group(3)), pre)

    def _key(self) -> tuple[Any, ...]:
        # A release sorts after all its pre-releases; numeric identifiers before alphanumeric.
        pre = tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in self.prerelease)
        return (self.major, self.minor, self.patch, 0 if self.prerelease else 1, pre)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, SemVer):
            return NotImplemented
        return self._key() < other._key()


@functools.lru_cache(maxsize=65536)
def _pep440(text: str) -> pep440.Version:
    try:
        return pep440.Version(text)
    except pep440.InvalidVersion as error:
        raise InvalidVersion(text) from error


PARSERS: Mapping[str, Callable[[str], Any]] = {"PyPI": _pep440, "npm": SemVer.parse}
"""The ecosystems whose versions Shipyard can order, with their parsers."""


def normalize_name(ecosystem: str, name: str) -> str:
    """A package name as the ecosystem compares names (PEP 503 for PyPI; npm is exact)."""
    if ecosystem == "PyPI":
        return str(packaging_utils.canonicalize_name(name))
    return name


@frozen
class Verdict:
    """Whether a version is affected, and the fixed versions the advisory names."""

    affected: bool
    fixed: tuple[str, ...]


def affected_by(
    advisory: Mapping[str, Any],
    ecosystem: str,
    name: str,
    version: str,
    *,
    use_versions: bool = True,
) -> Verdict:
    """Whether ``name`` ``version`` in ``ecosystem`` is affected by one OSV record.

    Raises ``InvalidVersion`` when ``version`` cannot be parsed in its ecosystem.
    ``use_versions=False`` judges by the ranges alone (the oracle test compares the two).
    """
    if advisory.get("withdrawn"):
        return Verdict(False, ())
    parse = PARSERS[ecosystem]
    wanted = parse(version)
    wanted_name = normalize_name(ecosystem, name)
    affected = False
    fixed: list[str] = []
    for entry in _entries(advisory, ecosystem, wanted_name):
        if use_versions and _listed(entry.get("versions") or (), wanted, parse):
            affected = True
        for range_ in entry.get("ranges") or ():
            if range_.get("type") not in ("ECOSYSTEM", "SEMVER"):
                continue
            events = range_.get("events") or ()
            fixed.extend(str(e["fixed"]) for e in events if "fixed" in e)
            if in_range(events, wanted, parse):
                affected = True
    return Verdict(affected, tuple(dict.fromkeys(fixed)))


def _entries(
    advisory: Mapping[str, Any], ecosystem: str, wanted_name: str
) -> Iterable[Mapping[str, Any]]:
    for entry in advisory.get("affected") or ():
        package = entry.get("package") or {}
        if str(package.get("ecosystem", "")).split(":", 1)[0] != ecosystem:
            continue
        if normalize_name(ecosystem, str(package.get("name", ""))) == wanted_name:
            yield entry


def _listed(versions: Iterable[object], wanted: Any, parse: Callable[[str], Any]) -> bool:
    for listed in versions:
        try:
            if parse(str(listed)) == wanted:
                return True
        except InvalidVersion:
            continue
    return False


@frozen
class Range:
    """One ``ECOSYSTEM`` or ``SEMVER`` range, its events parsed and in version order."""

    events: tuple[tuple[int, Any, str], ...]

    @classmethod
    def compile(cls, events: Sequence[Mapping[str, Any]], parse: Callable[[str], Any]) -> Range:
        ordered: list[tuple[int, Any, str]] = []
        for event in events:
            for kind in ("introduced", "fixed", "last_affected"):
                if kind not in event:
                    continue
                text = str(event[kind])
                if kind == "introduced" and text == "0":
                    ordered.append((0, None, kind))
                    continue
                try:
                    ordered.append((1, parse(text), kind))
                except InvalidVersion:
                    continue
        ordered.sort(key=_event_key)
        return cls(tuple(ordered))

    def contains(self, wanted: Any) -> bool:
        """The OSV evaluation: walk the events in version order, tracking "affected"."""
        affected = False
        for rank, at, kind in self.events:
            if kind == "introduced":
                if rank == 0 or wanted >= at:
                    affected = True
            elif kind == "fixed":
                if wanted >= at:
                    affected = False
            elif wanted > at:
                affected = False
        return affected


def in_range(events: Sequence[Mapping[str, Any]], wanted: Any, parse: Callable[[str], Any]) -> bool:
    """Whether a parsed version is inside the range these events describe."""
    return Range.compile(events, parse).contains(wanted)


def _event_key(event: tuple[int, Any, str]) -> Any:
    return _Sortable(event)


@functools.total_ordering
class _Sortable:
    """Orders events: "introduced 0" first, then by version."""

    __slots__ = ("event",)

    def __init__(self, event: tuple[int, Any, str]) -> None:
        self.event = event

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Sortable) and self.event[:2] == other.event[:2]

    __hash__ = None  # type: ignore[assignment]

    def __lt__(self, other: _Sortable) -> bool:
        if self.event[0] != other.event[0]:
            return self.event[0] < other.event[0]
        return bool(self.event[1] < other.event[1]) if self.event[0] else False
