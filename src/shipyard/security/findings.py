"""What every scanner reports: rules, findings and severities. Pure: no I/O.

A finding is one problem at one place; its ``fingerprint`` identifies it across runs (it does not
depend on the line number, so a baseline survives edits above it) and never contains a secret.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping
from dataclasses import field

from shipyard.core.frozen import frozen


class Severity(enum.IntEnum):
    """How bad a finding is; ordered, so a policy compares with ``>=``."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        """``high`` (any case) to ``Severity.HIGH``; ValueError for anything else."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(text) from None


SEVERITY_NAMES = tuple(severity.label for severity in Severity)
"""Every severity's name, lowest first: info, low, medium, high, critical."""

NOT_AUDITED = "not-audited"
"""The category of a finding that says something could not be checked (never a silent pass)."""


@frozen
class Rule:
    """A kind of finding, as SARIF's ``reportingDescriptor`` describes it."""

    id: str
    name: str
    short: str
    """One sentence: what the rule finds."""
    help: str
    """What to do about it."""
    severity: Severity
    help_uri: str | None = None
    tags: tuple[str, ...] = ()


@frozen
class Location:
    """A place in a file under the scanned root (``path`` relative, ``/``-separated) or a URL."""

    path: str
    line: int = 1
    column: int = 1
    end_line: int | None = None
    snippet: str | None = None
    """The offending text, already redacted where it would show a secret."""


@frozen
class Finding:
    """One problem found by one scanner at one place."""

    rule_id: str
    scanner: str
    severity: Severity
    message: str
    location: Location
    fingerprint: str
    category: str = "issue"
    properties: Mapping[str, object] = field(default_factory=dict)
    suppressed: str | None = None
    """Why it does not count: ``inline`` (an allow comment) or ``baseline``; None when it counts."""


def fingerprint(*parts: str) -> str:
    """A stable identifier built from the parts that make a finding the same finding."""
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:32]
