"""Every scanner by name; modules load on first use, so a scan imports only what it runs."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import MappingProxyType

from shipyard.core import errors
from shipyard.security import interface

# name -> (module in shipyard.security.scanners, class)
SCANNERS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "sast": ("bandit_sast", "BanditScanner"),
        "semgrep": ("semgrep_sast", "SemgrepScanner"),
        "dependencies": ("dependencies", "DependencyScanner"),
        "secrets": ("secrets", "SecretScanner"),
        "workflows": ("workflows", "WorkflowScanner"),
        "dockerfile": ("dockerfile", "DockerfileScanner"),
        "kubernetes": ("kubernetes", "KubernetesScanner"),
        "project": ("project_config", "ProjectConfigScanner"),
        "sbom": ("sbom", "SbomScanner"),
        "dast": ("dast", "DastScanner"),
    }
)

DEFAULT_SCANNERS = tuple(name for name in SCANNERS if name != "dast")
"""What ``shipyard scan`` runs unless told otherwise; DAST runs when given a URL."""


def scanner_entry(name: str) -> tuple[str, str]:
    """Where the scanner called ``name`` lives; a UsageError naming the known ones otherwise."""
    entry = SCANNERS.get(name)
    if entry is None:
        known = ", ".join(SCANNERS)
        raise errors.UsageError(f"unknown scanner `{name}`", hint=f"choose from: {known}")
    return entry


def scanner(name: str) -> interface.Scanner:
    """The scanner called ``name``, its module imported on first use."""
    entry = scanner_entry(name)
    module = importlib.import_module(f"shipyard.security.scanners.{entry[0]}")
    found: interface.Scanner = getattr(module, entry[1])()
    return found
