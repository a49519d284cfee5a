"""The one interface every scanner implements, and what it is given and gives back.

A scanner reads the tree (or a running app) and returns its rules, its findings and notes about
what it could not do; it never prints, never exits and never decides whether the gate fails —
that is ``policy``'s job. Adding a scanner is one module in ``scanners/`` and one line in
``registry``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import field
from pathlib import Path
from typing import Literal, Protocol

from shipyard.core import errors
from shipyard.core.frozen import frozen
from shipyard.security import findings

DEFAULT_EXCLUDES = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    "node_modules",
    "__pycache__",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
)
"""Directory names no scanner of the working tree enters (vendored or generated content)."""


class ScanError(errors.ExecutionError):
    """A scanner could not run at all (its tool is broken, its input unreadable)."""

    exit_code = 3


@frozen
class ScanContext:
    """Everything a scanner may look at: the tree, the options and where to write artefacts."""

    root: Path
    excludes: tuple[str, ...] = DEFAULT_EXCLUDES
    """Directory names (or root-relative paths) that are never scanned."""
    history: bool = False
    """Secrets: also scan every commit of the repository's history."""
    osv_db: Path | None = None
    """A directory or zip of OSV records; None: no database, dependencies are not audited."""
    osv_api: str | None = None
    """The base URL of an OSV API to ask instead of a database (``https://api.osv.dev``)."""
    dast_url: str | None = None
    sbom_path: Path | None = None
    """Where the SBOM scanner writes CycloneDX JSON; None: it only counts components."""
    semgrep: str | None = None
    """The semgrep executable to use; None: look for one on PATH."""
    dast_max_requests: int = 60
    dast_time_budget: float = 30.0


@frozen
class Notice:
    """Something a scanner wants the reader to know: a file it skipped, a tool it lacks."""

    message: str
    level: Literal["note", "warning", "error"] = "note"


@frozen
class ScanResult:
    """What one scanner found in one run."""

    scanner: str
    tool: str
    """The tool's name as SARIF's ``tool.driver.name`` shows it."""
    version: str
    rules: Mapping[str, findings.Rule]
    findings: Sequence[findings.Finding]
    notices: Sequence[Notice] = ()
    ran: bool = True
    """False when the scanner had nothing it could do (semgrep missing, no URL for DAST)."""
    seconds: float = 0.0
    artifacts: Sequence[Path] = field(default_factory=tuple)
    error: str | None = None
    """Why the scanner failed to run; a failed scanner fails the gate (nothing is assumed)."""


class Scanner(Protocol):
    """One scanner: SAST, dependencies, secrets, config checks, SBOM or DAST."""

    name: str
    """The name used in ``--scanner`` and ``security.scanners`` (``secrets``)."""

    def scan(self, context: ScanContext) -> ScanResult:
        """Scan and report; raise ``ScanError`` only when nothing at all could be scanned."""
        ...
