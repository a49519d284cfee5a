"""The scan's other two faces: a JSON document for scripts and a terminal summary by severity.

Pure: both are built as values (a dict, a string); the CLI writes or prints them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shipyard.security import findings, interface, policy

_FORMAT_VERSION = 1
_TEXT_LIMIT = 20
"""Findings listed per severity in the terminal summary; the rest are counted."""


def as_json(
    results: Sequence[interface.ScanResult], decision: policy.Decision, rules: policy.Policy
) -> dict[str, Any]:
    """Every finding and every scanner's status, with the verdict."""
    return {
        "version": _FORMAT_VERSION,
        "passed": decision.passed,
        "exit_code": decision.exit_code,
        "summary": decision.summary(),
        "policy": {
            "fail_on": rules.fail_on.label if rules.fail_on is not None else "never",
            "strict": rules.strict,
        },
        "counts": {name: decision.counts.get(name, 0) for name in findings.SEVERITY_NAMES},
        "scanners": [
            {
                "name": result.scanner,
                "tool": result.tool,
                "version": result.version,
                "ran": result.ran,
                "error": result.error,
                "seconds": round(result.seconds, 3),
                "findings": len(result.findings),
                "notices": [notice.message for notice in result.notices],
                "artifacts": [str(path) for path in result.artifacts],
            }
            for result in results
        ],
        "findings": [
            {
                "rule": finding.rule_id,
                "scanner": finding.scanner,
                "severity": finding.severity.label,
                "category": finding.category,
                "message": finding.message,
                "path": finding.location.path,
                "line": finding.location.line,
                "column": finding.location.column,
                "snippet": finding.location.snippet,
                "fingerprint": finding.fingerprint,
                "suppressed": finding.suppressed,
                "fails_gate": policy.counts_against(rules, finding),
                "properties": dict(finding.properties),
            }
            for result in results
            for finding in result.findings
        ],
    }


def as_text(
    results: Sequence[interface.ScanResult], decision: policy.Decision, rules: policy.Policy
) -> str:
    """A summary a person reads in a terminal: scanners, then findings grouped by severity."""
    lines: list[str] = []
    for result in results:
        status = "failed" if result.error else ("ran" if result.ran else "skipped")
        lines.append(
            f"{result.scanner:<13}{status:<8}{len(result.findings):>5} findings  "
            f"{result.seconds:6.2f} s"
        )
        lines.extend(f"  {notice.level}: {notice.message}" for notice in result.notices)
        if result.error:
            lines.append(f"  error: {result.error}")
    every = [f for result in results for f in result.findings if f.suppressed is None]
    for severity in sorted(findings.Severity, reverse=True):
        group = [f for f in every if f.severity == severity]
        if not group:
            continue
        lines.append("")
        lines.append(f"{severity.label.upper()} ({len(group)})")
        group.sort(key=lambda f: (f.location.path, f.location.line, f.rule_id))
        for finding in group[:_TEXT_LIMIT]:
            mark = "✗" if policy.counts_against(rules, finding) else " "
            where = f"{finding.location.path}:{finding.location.line}"
            lines.append(f" {mark} {where}  {finding.rule_id}  {finding.message}")
        if len(group) > _TEXT_LIMIT:
            lines.append(f"   … and {len(group) - _TEXT_LIMIT} more (see the SARIF or JSON report)")
    lines.append("")
    lines.append(decision.summary())
    return "\n".join(lines) + "\n"
