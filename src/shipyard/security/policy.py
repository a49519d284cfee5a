"""Whether a scan passes the gate. Pure: no I/O (an import-linter contract keeps it so).

A finding counts when it is at or above the ``fail_on`` threshold and is suppressed neither
inline nor by the baseline. With ``strict``, what could not be checked (a dependency not audited,
an unreadable manifest) counts too. A scanner that failed to run always fails the gate: a gate
that cannot look must not say "pass".

Exit codes of ``shipyard scan`` (documented in docs/security.md):
0 passed · 1 findings fail the policy · 2 a usage or configuration error · 3 a scanner failed.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Sequence

from shipyard.core.frozen import frozen
from shipyard.security import findings, interface

EXIT_PASSED = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_SCANNER_FAILED = 3


@frozen
class Policy:
    """The team's rule for failing a pipeline on findings."""

    fail_on: findings.Severity | None = findings.Severity.HIGH
    """The lowest severity that fails; None: findings never fail (report only)."""
    strict: bool = False
    """Also fail on anything that could not be checked (``not-audited`` findings)."""


@frozen
class Decision:
    """The gate's verdict and why."""

    passed: bool
    exit_code: int
    failing: tuple[findings.Finding, ...]
    counts: dict[str, int]
    """Findings that count, by severity name (suppressed ones left out)."""
    suppressed: int
    failed_scanners: tuple[str, ...]

    def summary(self) -> str:
        """One line a person reads in a pipeline log or a deploy refusal."""
        counts = (
            ", ".join(
                f"{self.counts[name]} {name}"
                for name in reversed(findings.SEVERITY_NAMES)
                if self.counts.get(name)
            )
            or "no findings"
        )
        verdict = "passed" if self.passed else "failed"
        parts = [f"security gate {verdict}: {counts}"]
        if self.failing:
            parts.append(f"{len(self.failing)} at or above the threshold")
        if self.suppressed:
            parts.append(f"{self.suppressed} suppressed")
        if self.failed_scanners:
            parts.append(f"scanners that failed: {', '.join(self.failed_scanners)}")
        return "; ".join(parts)


def apply_baseline(
    found: Iterable[findings.Finding], baseline: frozenset[str] | set[str]
) -> list[findings.Finding]:
    """The findings, those whose fingerprint is in the baseline marked as suppressed."""
    return [
        dataclasses.replace(finding, suppressed="baseline")
        if finding.suppressed is None and finding.fingerprint in baseline
        else finding
        for finding in found
    ]


def counts_against(policy: Policy, finding: findings.Finding) -> bool:
    """Whether one finding fails the gate under ``policy``."""
    if finding.suppressed is not None:
        return False
    if finding.category == findings.NOT_AUDITED:
        return policy.strict
    return policy.fail_on is not None and finding.severity >= policy.fail_on


def decide(policy: Policy, results: Sequence[interface.ScanResult]) -> Decision:
    """The verdict over every scanner's findings (the baseline already applied)."""
    every = [finding for result in results for finding in result.findings]
    counted = [finding for finding in every if finding.suppressed is None]
    failing = tuple(finding for finding in every if counts_against(policy, finding))
    failed_scanners = tuple(result.scanner for result in results if result.error is not None)
    counts = Counter(finding.severity.label for finding in counted)
    if failed_scanners:
        exit_code = EXIT_SCANNER_FAILED
    elif failing:
        exit_code = EXIT_FINDINGS
    else:
        exit_code = EXIT_PASSED
    return Decision(
        passed=exit_code == EXIT_PASSED,
        exit_code=exit_code,
        failing=failing,
        counts=dict(counts),
        suppressed=len(every) - len(counted),
        failed_scanners=failed_scanners,
    )
