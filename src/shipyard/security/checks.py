"""What the config checkers (workflows, Dockerfiles, Kubernetes, shipyard.yaml) share. Pure.

A checker declares its rules once and reports a finding with ``Checks.report``; the fingerprint
is the rule, the file and a *key* naming the spot without its line (``jobs.build.steps[2]``), so a
baseline survives edits elsewhere in the file.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field

from shipyard.security import findings


@dataclass(slots=True)
class Checks:
    """The rules of one checker and the findings reported so far."""

    scanner: str
    rules: dict[str, findings.Rule]
    found: list[findings.Finding] = field(default_factory=list)

    def report(
        self,
        rule_id: str,
        path: str,
        line: int,
        message: str,
        *,
        key: str,
        column: int = 1,
        snippet: str | None = None,
    ) -> None:
        rule = self.rules[rule_id]
        # A URL's port changes from run to run; the path on the server is what stays the same.
        stable = (
            urllib.parse.urlsplit(path).path if path.startswith(("http://", "https://")) else path
        )
        self.found.append(
            findings.Finding(
                rule_id=rule_id,
                scanner=self.scanner,
                severity=rule.severity,
                message=message,
                location=findings.Location(path, line, column, snippet=snippet),
                fingerprint=findings.fingerprint(self.scanner, rule_id, stable, key),
                category="misconfiguration",
            )
        )


def rules(*described: findings.Rule) -> dict[str, findings.Rule]:
    """Rules by id."""
    return {rule.id: rule for rule in described}


def rule(
    rule_id: str,
    name: str,
    short: str,
    help_text: str,
    severity: findings.Severity,
    *tags: str,
) -> findings.Rule:
    """One rule of a config checker."""
    return findings.Rule(rule_id, name, short, help_text, severity, tags=("security", *tags))
