"""A scan from settings to verdict: choose the scanners, run them, apply the baseline, decide.

The CLI, the ``shipyard/scan`` action and the deploy gate all come through ``plan_scan`` and
``run_scan``, so a scan means the same thing wherever it runs. Settings come from three places,
strongest first: command-line flags, ``shipyard.yaml``'s ``security:`` section, the defaults.
"""

from __future__ import annotations

import os
from dataclasses import field
from pathlib import Path
from typing import Any

from shipyard.core import errors
from shipyard.core.frozen import frozen
from shipyard.security import (
    baseline,
    findings,
    interface,
    osv_api,
    osv_db,
    policy,
    registry,
    sarif,
)
from shipyard.spec import project_security
from shipyard.store import paths


@frozen
class Overrides:
    """What the command line says; None: take the project's setting or the default."""

    scanners: tuple[str, ...] | None = None
    fail_on: str | None = None
    strict: bool | None = None
    baseline: Path | None = None
    osv_db: Path | None = None
    osv_api: str | None = None
    sbom: Path | None = None
    dast_url: str | None = None
    history: bool = False
    exclude: tuple[str, ...] = ()
    semgrep: str | None = None


@frozen
class ScanPlan:
    """What a scan will do, decided before anything runs."""

    context: interface.ScanContext
    scanners: tuple[str, ...]
    policy: policy.Policy
    baseline_path: Path


@frozen
class ScanOutcome:
    """What a scan found and the gate's verdict."""

    plan: ScanPlan
    results: tuple[interface.ScanResult, ...]
    decision: policy.Decision
    all_findings: tuple[findings.Finding, ...] = field(default_factory=tuple)

    def sarif(self) -> dict[str, Any]:
        return sarif.build(self.plan.context.root, self.results)


def parse_level(text: str, where: str) -> findings.Severity | None:
    """A ``fail_on`` level; None for ``never``."""
    if text == "never":
        return None
    try:
        return findings.Severity.parse(text)
    except ValueError:
        levels = ", ".join(project_security.LEVELS)
        raise errors.UsageError(
            f"{where}: unknown level `{text}`", hint=f"use one of {levels}"
        ) from None


def plan_scan(
    root: Path,
    settings: project_security.SecuritySettings | None = None,
    overrides: Overrides | None = None,
) -> ScanPlan:
    """Combine flags, project settings and defaults into one plan."""
    settings = settings or project_security.SecuritySettings()
    overrides = overrides or Overrides()
    if not root.is_dir():
        raise errors.UsageError(f"{root} is not a directory", hint="name the repository to scan")
    names = overrides.scanners or settings.scanners or registry.DEFAULT_SCANNERS
    dast_url = overrides.dast_url or (settings.dast if "dast" in names else None)
    if dast_url and "dast" not in names:
        names = (*names, "dast")
    for name in names:
        registry.scanner_entry(name)
    if "dast" in names and not dast_url:
        raise errors.UsageError(
            "the dast scanner needs the URL of a running app",
            hint="pass --dast http://127.0.0.1:PORT or set `security.dast` in shipyard.yaml",
        )
    level = overrides.fail_on or settings.fail_on
    rules = policy.Policy(
        fail_on=parse_level(level, "--fail-on" if overrides.fail_on else "security.fail_on"),
        strict=settings.strict if overrides.strict is None else overrides.strict,
    )
    baseline_path = overrides.baseline or root / (settings.baseline or baseline.DEFAULT_PATH)
    sbom = overrides.sbom or (root / settings.sbom if settings.sbom else None)
    context = interface.ScanContext(
        root=root,
        excludes=(*interface.DEFAULT_EXCLUDES, *settings.exclude, *overrides.exclude),
        history=overrides.history,
        osv_db=_osv_database(root, settings, overrides),
        osv_api=_osv_api(settings, overrides),
        dast_url=dast_url,
        sbom_path=sbom,
        semgrep=overrides.semgrep,
    )
    ordered = tuple(name for name in registry.SCANNERS if name in names)
    return ScanPlan(context, ordered, rules, baseline_path)


def _osv_api(settings: project_security.SecuritySettings, overrides: Overrides) -> str | None:
    """The OSV API to ask, when one is configured and no database is named on the command line."""
    if overrides.osv_db is not None:
        return None
    return overrides.osv_api or os.environ.get(osv_api.API_VARIABLE) or settings.osv_api


def _osv_database(
    root: Path, settings: project_security.SecuritySettings, overrides: Overrides
) -> Path | None:
    if overrides.osv_db is not None:
        return overrides.osv_db
    configured = os.environ.get(osv_db.DATABASE_VARIABLE)
    if configured:
        return Path(configured)
    if settings.osv_db:
        return root / settings.osv_db
    default = osv_db.default_location(paths.home())
    return default if default.exists() else None


def run_scan(plan: ScanPlan) -> ScanOutcome:
    """Run every planned scanner; a scanner that fails is recorded, the others still run."""
    results: list[interface.ScanResult] = []
    accepted = baseline.load(plan.baseline_path)
    for name in plan.scanners:
        scanner = registry.scanner(name)
        try:
            result = scanner.scan(plan.context)
        except interface.ScanError as error:
            result = interface.ScanResult(
                scanner=name,
                tool=name,
                version="",
                rules={},
                findings=(),
                ran=False,
                error=error.render(),
            )
        results.append(_with_baseline(result, accepted))
    decision = policy.decide(plan.policy, results)
    every = tuple(finding for result in results for finding in result.findings)
    return ScanOutcome(plan, tuple(results), decision, every)


def _with_baseline(result: interface.ScanResult, accepted: frozenset[str]) -> interface.ScanResult:
    if not accepted:
        return result
    marked = policy.apply_baseline(result.findings, accepted)
    return interface.ScanResult(
        scanner=result.scanner,
        tool=result.tool,
        version=result.version,
        rules=result.rules,
        findings=marked,
        notices=result.notices,
        ran=result.ran,
        seconds=result.seconds,
        artifacts=result.artifacts,
        error=result.error,
    )


def update_baseline(outcome: ScanOutcome) -> int:
    """Record every current finding in the plan's baseline file; how many it holds now."""
    return baseline.save(outcome.plan.baseline_path, outcome.all_findings)
