"""Known vulnerabilities in the resolved dependencies, matched against an offline OSV database.

Every package of every manifest is either checked (and reported when affected, with the
advisory, its aliases, its severity and the fixed versions) or reported as *not audited* with
the reason: not pinned, an ecosystem Shipyard cannot order, a version it cannot parse, or no
database at all. A scan never says "no vulnerabilities" about what it did not check.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from shipyard.security import cvss, findings, interface, manifests, osv_api, osv_db, osv_match

_NOT_AUDITED = findings.Rule(
    id="dependency/not-audited",
    name="Dependency not audited",
    short="A dependency whose exact version could not be checked against the advisories.",
    help="Pin the exact version (a lock file, or `name==version` in requirements), and give the "
    "scan an advisory database (`shipyard scan db update`, or --osv-db). A strict policy "
    "(`security.strict: true`) fails on these.",
    severity=findings.Severity.INFO,
    tags=("security", "dependency"),
)
_MANIFEST = findings.Rule(
    id="dependency/unreadable-manifest",
    name="Unreadable manifest",
    short="A dependency manifest or lock file that could not be read.",
    help="Fix the file's syntax; until then none of its dependencies is audited.",
    severity=findings.Severity.LOW,
    tags=("security", "dependency"),
)
_UNKNOWN_SEVERITY = findings.Severity.HIGH
"""An advisory without a CVSS vector or a rating counts as high: unknown is not harmless."""


class DependencyScanner:
    """Manifests and lock files against OSV advisories (PEP 440 and semver semantics)."""

    name = "dependencies"

    def scan(self, context: interface.ScanContext) -> interface.ScanResult:
        started = time.perf_counter()
        dependencies, problems = manifests.discover(context.root, context.excludes)
        rules: dict[str, findings.Rule] = {_NOT_AUDITED.id: _NOT_AUDITED}
        found: list[findings.Finding] = []
        notices: list[interface.Notice] = []
        for problem in problems:
            rules[_MANIFEST.id] = _MANIFEST
            found.append(_unreadable(problem))
        database = None
        pinned = {(d.ecosystem, d.name, d.version) for d in dependencies if d.version is not None}
        if context.osv_api is not None and dependencies:
            supported = {p for p in pinned if p[0] in osv_match.PARSERS}
            database = osv_api.fetch(context.osv_api, supported)
            notices.append(interface.Notice(f"asked the OSV API at {database.source}"))
        elif context.osv_db is not None and dependencies:
            database = osv_db.load(context.osv_db, {dep.name for dep in dependencies})
            notices.extend(interface.Notice(p, "warning") for p in database.problems[:20])
        elif dependencies:
            notices.append(
                interface.Notice(
                    "no OSV database: every dependency is reported as not audited; run "
                    "`shipyard scan db update` or pass --osv-db",
                    "warning",
                )
            )
        for dependency in dependencies:
            found.extend(_check(dependency, database, rules))
        unique = {finding.fingerprint: finding for finding in found}
        return interface.ScanResult(
            scanner=self.name,
            tool="shipyard-osv",
            version="1",
            rules=rules,
            findings=list(unique.values()),
            notices=notices,
            seconds=time.perf_counter() - started,
        )


def _check(
    dependency: manifests.Dependency,
    database: osv_db.Database | None,
    rules: dict[str, findings.Rule],
) -> list[findings.Finding]:
    if dependency.version is None:
        return [_not_audited(dependency, dependency.reason or "no exact version")]
    if dependency.ecosystem not in osv_match.PARSERS:
        return [_not_audited(dependency, f"ecosystem {dependency.ecosystem} is not supported")]
    if database is None:
        return [_not_audited(dependency, "no advisory database")]
    if dependency.ecosystem not in database.ecosystems:
        reason = f"the advisory database holds no {dependency.ecosystem} records"
        return [_not_audited(dependency, reason)]
    try:
        osv_match.PARSERS[dependency.ecosystem](dependency.version)
    except osv_match.InvalidVersion:
        return [_not_audited(dependency, f"version {dependency.version} cannot be parsed")]
    found = []
    for advisory in database.advisories(dependency.ecosystem, dependency.name):
        try:
            verdict = osv_match.affected_by(
                advisory, dependency.ecosystem, dependency.name, dependency.version
            )
        except osv_match.InvalidVersion:
            return [_not_audited(dependency, f"version {dependency.version} cannot be parsed")]
        if verdict.affected:
            rule = _advisory_rule(advisory)
            rules.setdefault(rule.id, rule)
            found.append(_vulnerable(dependency, advisory, rule, verdict))
    return found


def _advisory_rule(advisory: Mapping[str, Any]) -> findings.Rule:
    advisory_id = str(advisory["id"])
    summary = str(advisory.get("summary") or "").strip()
    details = " ".join(str(advisory.get("details") or "").split())
    short = summary or (details[:200] + ("…" if len(details) > 200 else "")) or advisory_id
    return findings.Rule(
        id=advisory_id,
        name=advisory_id,
        short=short,
        help=(details or short) + " Upgrade to a fixed version.",
        severity=severity_of(advisory),
        help_uri=f"https://osv.dev/vulnerability/{advisory_id}",
        tags=("security", "vulnerability", *(str(a) for a in advisory.get("aliases") or ())),
    )


def severity_of(advisory: Mapping[str, Any]) -> findings.Severity:
    """The highest CVSS v3 score of an advisory, else its database rating, else high."""
    scores = [
        score
        for entry in advisory.get("severity") or ()
        if (score := cvss.base_score(str(entry.get("score", "")))) is not None
    ]
    if scores:
        return cvss.severity_of(max(scores))
    rating = str((advisory.get("database_specific") or {}).get("severity", "")).upper()
    ratings = {"MODERATE": "MEDIUM", "MEDIUM": "MEDIUM", "LOW": "LOW", "HIGH": "HIGH"}
    if rating in ratings or rating == "CRITICAL":
        return findings.Severity.parse(ratings.get(rating, rating))
    return _UNKNOWN_SEVERITY


def _vulnerable(
    dependency: manifests.Dependency,
    advisory: Mapping[str, Any],
    rule: findings.Rule,
    verdict: osv_match.Verdict,
) -> findings.Finding:
    aliases = [str(alias) for alias in advisory.get("aliases") or ()]
    fixed = ", ".join(verdict.fixed) or "none yet"
    also = f" ({', '.join(aliases)})" if aliases else ""
    return findings.Finding(
        rule_id=rule.id,
        scanner="dependencies",
        severity=rule.severity,
        message=f"{dependency.name} {dependency.version} is affected by {rule.id}{also}; "
        f"fixed in: {fixed}",
        location=findings.Location(dependency.path, dependency.line),
        fingerprint=findings.fingerprint(
            "dependencies",
            rule.id,
            dependency.ecosystem,
            dependency.name.lower(),
            dependency.version or "",
            dependency.path,
        ),
        category="vulnerability",
        properties={
            "package": dependency.name,
            "version": dependency.version,
            "ecosystem": dependency.ecosystem,
            "aliases": aliases,
            "fixed": list(verdict.fixed),
        },
    )


def _not_audited(dependency: manifests.Dependency, reason: str) -> findings.Finding:
    return findings.Finding(
        rule_id=_NOT_AUDITED.id,
        scanner="dependencies",
        severity=_NOT_AUDITED.severity,
        message=f"{dependency.name} was not audited: {reason}",
        location=findings.Location(dependency.path, dependency.line),
        fingerprint=findings.fingerprint(
            "dependencies",
            "not-audited",
            dependency.ecosystem,
            dependency.name.lower(),
            dependency.path,
        ),
        category=findings.NOT_AUDITED,
        properties={"package": dependency.name, "reason": reason},
    )


def _unreadable(problem: manifests.Problem) -> findings.Finding:
    return findings.Finding(
        rule_id=_MANIFEST.id,
        scanner="dependencies",
        severity=_MANIFEST.severity,
        message=f"cannot read {problem.path}: {problem.message}; its dependencies are not audited",
        location=findings.Location(problem.path),
        fingerprint=findings.fingerprint("dependencies", "unreadable", problem.path),
        category=findings.NOT_AUDITED,
    )
