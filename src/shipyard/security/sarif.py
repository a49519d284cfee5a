"""One SARIF 2.1.0 log with one run per scanner. Pure: builds a dict, never writes it.

Each run carries its tool's rules (with help text and a ``security-severity`` score, which
code-scanning services use to rank alerts), its results with locations relative to
``%SRCROOT%`` (DAST results point at URLs), ``partialFingerprints`` that stay stable across
edits, suppressions for allowed and baselined findings, and the scanner's notices as tool
execution notifications.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shipyard.security import findings, interface

SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
FINGERPRINT_KEY = "shipyard/v1"
_LEVELS = {
    findings.Severity.CRITICAL: "error",
    findings.Severity.HIGH: "error",
    findings.Severity.MEDIUM: "warning",
    findings.Severity.LOW: "note",
    findings.Severity.INFO: "note",
}
_SCORES = {
    findings.Severity.CRITICAL: "9.5",
    findings.Severity.HIGH: "8.0",
    findings.Severity.MEDIUM: "5.5",
    findings.Severity.LOW: "2.0",
    findings.Severity.INFO: "0.0",
}


def build(root: Path, results: Sequence[interface.ScanResult]) -> dict[str, Any]:
    """The SARIF log of a scan of ``root``."""
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [_run(root, result) for result in results],
    }


def _run(root: Path, result: interface.ScanResult) -> dict[str, Any]:
    rule_ids = sorted(result.rules)
    index = {rule_id: position for position, rule_id in enumerate(rule_ids)}
    notifications = [
        {"level": notice.level, "message": {"text": notice.message}} for notice in result.notices
    ]
    if result.error is not None:
        notifications.append({"level": "error", "message": {"text": result.error}})
    if not result.ran:
        notifications.append({"level": "note", "message": {"text": "the scanner did not run"}})
    invocation: dict[str, Any] = {"executionSuccessful": result.error is None}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return {
        "tool": {
            "driver": {
                "name": result.tool,
                "version": result.version,
                "organization": "Shipyard" if result.tool.startswith("shipyard") else result.tool,
                "rules": [_rule(result.rules[rule_id]) for rule_id in rule_ids],
            }
        },
        "automationDetails": {"id": f"shipyard/{result.scanner}/"},
        "originalUriBaseIds": {"%SRCROOT%": {"uri": root.resolve().as_uri() + "/"}},
        "columnKind": "unicodeCodePoints",
        "invocations": [invocation],
        "results": [_result(finding, index) for finding in result.findings],
        "properties": {"scanner": result.scanner, "seconds": round(result.seconds, 3)},
    }


def _rule(rule: findings.Rule) -> dict[str, Any]:
    described: dict[str, Any] = {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.short},
        "fullDescription": {"text": rule.short},
        "help": {"text": rule.help, "markdown": rule.help},
        "defaultConfiguration": {"level": _LEVELS[rule.severity]},
        "properties": {
            "tags": list(rule.tags),
            "security-severity": _SCORES[rule.severity],
            "severity": rule.severity.label,
        },
    }
    if rule.help_uri:
        described["helpUri"] = rule.help_uri
    return described


def _result(finding: findings.Finding, index: dict[str, int]) -> dict[str, Any]:
    location = finding.location
    artifact: dict[str, Any]
    if location.path.startswith(("http://", "https://")):
        artifact = {"uri": location.path}
    else:
        artifact = {"uri": location.path, "uriBaseId": "%SRCROOT%"}
    region: dict[str, Any] = {
        "startLine": max(1, location.line),
        "startColumn": max(1, location.column),
    }
    if location.end_line is not None and location.end_line >= location.line:
        region["endLine"] = location.end_line
    if location.snippet:
        region["snippet"] = {"text": location.snippet}
    described: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "level": _LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": {"artifactLocation": artifact, "region": region}}],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {
            "severity": finding.severity.label,
            "category": finding.category,
            **finding.properties,
        },
    }
    if finding.rule_id in index:
        described["ruleIndex"] = index[finding.rule_id]
    if finding.suppressed == "inline":
        described["suppressions"] = [
            {"kind": "inSource", "justification": "shipyard:allow-secret on the line"}
        ]
    elif finding.suppressed == "baseline":
        described["suppressions"] = [
            {"kind": "external", "justification": "recorded in the security baseline"}
        ]
    return described
