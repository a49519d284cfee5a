"""Semantic versions as flagd's ``sem_ver`` operator reads them. Pure: no I/O.

flagd prefixes a missing ``v`` and then follows Go's ``golang.org/x/mod/semver``: ``v1`` and
``v1.2`` are shorthands for ``v1.0.0`` and ``v1.2.0`` (without pre-release or build), numbers
have no leading zeros, build metadata is ignored when comparing, and a pre-release sorts before
its release. ``^`` compares the major version only and ``~`` the major and minor, exactly as flagd
does (no special case for ``0.x``). Anything else a version could be is not a version: the
operator answers ``null``, as flagd's does, so a flag whose rule is a bare ``sem_ver`` falls back
to its default variant (and an ``if`` takes its else branch).
"""

from __future__ import annotations

import re

from shipyard.core.frozen import frozen

OPERATORS = frozenset({"=", "!=", "<", "<=", ">", ">=", "^", "~"})

_NUMBER = r"(?:0|[1-9][0-9]*)"
_IDENTIFIER = r"[0-9A-Za-z-]+"
_FULL = re.compile(
    rf"v(?P<major>{_NUMBER})\.(?P<minor>{_NUMBER})\.(?P<patch>{_NUMBER})"
    rf"(?:-(?P<pre>{_IDENTIFIER}(?:\.{_IDENTIFIER})*))?"
    rf"(?:\+(?P<build>{_IDENTIFIER}(?:\.{_IDENTIFIER})*))?"
)
_SHORT = re.compile(rf"v(?P<major>{_NUMBER})(?:\.(?P<minor>{_NUMBER}))?")


@frozen
class Version:
    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...] = ()


def parse(text: object) -> Version | None:
    """The version ``text`` names, or None when flagd would not accept it."""
    if not isinstance(text, str):
        return None
    if not text.startswith("v"):
        text = "v" + text
    full = _FULL.fullmatch(text)
    if full is not None:
        prerelease = tuple(full["pre"].split(".")) if full["pre"] else ()
        if any(part.isdigit() and len(part) > 1 and part[0] == "0" for part in prerelease):
            return None
        return Version(int(full["major"]), int(full["minor"]), int(full["patch"]), prerelease)
    short = _SHORT.fullmatch(text)
    if short is not None:
        return Version(int(short["major"]), int(short["minor"] or 0), 0)
    return None


def _compare_prerelease(left: tuple[str, ...], right: tuple[str, ...]) -> int:
    if left == right:
        return 0
    if not left:
        return 1
    if not right:
        return -1
    for a, b in zip(left, right, strict=False):
        if a == b:
            continue
        a_number, b_number = a.isdigit(), b.isdigit()
        if a_number and b_number:
            return -1 if int(a) < int(b) else 1
        if a_number != b_number:
            return -1 if a_number else 1
        return -1 if a < b else 1
    return -1 if len(left) < len(right) else 1


def compare(left: Version, right: Version) -> int:
    """-1, 0 or 1, as ``semver.Compare``."""
    a = (left.major, left.minor, left.patch)
    b = (right.major, right.minor, right.patch)
    if a != b:
        return -1 if a < b else 1
    return _compare_prerelease(left.prerelease, right.prerelease)


def matches(actual: object, operator: object, target: object) -> bool | None:
    """``sem_ver``'s answer; None for anything that is not two versions and an operator."""
    left = parse(actual)
    right = parse(target)
    if left is None or right is None or operator not in OPERATORS:
        return None
    if operator == "^":
        return left.major == right.major
    if operator == "~":
        return (left.major, left.minor) == (right.major, right.minor)
    order = compare(left, right)
    if operator == "=":
        return order == 0
    if operator == "!=":
        return order != 0
    if operator == "<":
        return order < 0
    if operator == "<=":
        return order <= 0
    if operator == ">":
        return order > 0
    return order >= 0
