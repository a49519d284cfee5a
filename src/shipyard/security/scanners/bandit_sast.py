"""SAST for Python: bandit, run in-process through its manager API (no subprocess).

The tree's Python files come from Shipyard's own walker (so bandit skips what every scanner
skips), bandit's default profile runs over them, and its issues become findings whose severity is
bandit's, lowered one step when bandit's confidence is low. Files bandit cannot parse are named in
a notice; ``# nosec`` comments keep working as bandit documents.
"""

from __future__ import annotations

import logging
import time
import warnings

from shipyard.security import files as tree
from shipyard.security import findings, interface

_SEVERITIES = {
    "HIGH": findings.Severity.HIGH,
    "MEDIUM": findings.Severity.MEDIUM,
    "LOW": findings.Severity.LOW,
    "UNDEFINED": findings.Severity.INFO,
}
_LOWER = {
    findings.Severity.HIGH: findings.Severity.MEDIUM,
    findings.Severity.MEDIUM: findings.Severity.LOW,
    findings.Severity.LOW: findings.Severity.INFO,
    findings.Severity.INFO: findings.Severity.INFO,
}


class BanditScanner:
    """bandit's checks over every ``.py`` file of the tree."""

    name = "sast"

    def scan(self, context: interface.ScanContext) -> interface.ScanResult:
        with warnings.catch_warnings():
            # bandit's plugin loader passes stevedore an argument stevedore now deprecates.
            warnings.simplefilter("ignore", DeprecationWarning)
            import bandit  # type: ignore[import-untyped]
            from bandit.core import config, extension_loader, manager  # type: ignore[import-untyped]

        started = time.perf_counter()
        logger = logging.getLogger("bandit")
        previous = logger.level
        logger.setLevel(logging.CRITICAL)  # bandit logs each unparsable file; we report them
        try:
            scanner = manager.BanditManager(config.BanditConfig(), "file", quiet=True)
            shown_by_file: dict[str, str] = {}
            for shown, path in tree.walk(context.root, context.excludes):
                if shown.endswith(".py"):
                    shown_by_file[str(path)] = shown
            scanner.files_list = sorted(shown_by_file)
            scanner.run_tests()
            issues = scanner.get_issue_list()
            skipped = list(scanner.skipped)
        finally:
            logger.setLevel(previous)
        rules: dict[str, findings.Rule] = {}
        found: list[findings.Finding] = []
        for issue in issues:
            rule_id = f"bandit/{issue.test_id}"
            if rule_id not in rules:
                plugin = extension_loader.MANAGER.plugins_by_id.get(issue.test_id)
                doc = (plugin.plugin.__doc__ or "") if plugin is not None else ""
                listed = extension_loader.MANAGER.blacklist_by_id.get(issue.test_id)
                name = issue.test
                if listed is not None:  # a blacklisted call or import: its own name and message
                    name = str(listed.get("name", name))
                    doc = str(listed.get("message", "")).replace("{name}", "this module or call")
                rules[rule_id] = _rule(rule_id, name, doc, issue.severity, issue.test_id)
            found.append(_finding(issue, shown_by_file.get(issue.fname, issue.fname), rule_id))
        notices = [
            interface.Notice(f"{shown_by_file.get(name, name)}: not analysed ({reason})", "warning")
            for name, reason in skipped[:50]
        ]
        if len(skipped) > 50:
            notices.append(interface.Notice(f"… and {len(skipped) - 50} more files", "warning"))
        return interface.ScanResult(
            scanner=self.name,
            tool="bandit",
            version=bandit.__version__,
            rules=rules,
            findings=found,
            notices=notices,
            seconds=time.perf_counter() - started,
        )


def _rule(rule_id: str, test: str, doc: str, severity: str, test_id: str) -> findings.Rule:
    paragraphs = [" ".join(p.split()) for p in doc.split("\n\n") if p.strip()]
    # bandit's docstrings open with an RST title line; the first real paragraph follows.
    body = [p for p in paragraphs if not set(p) <= set("=-~ ") and not p.startswith("B")]
    short = body[0] if body else test.replace("_", " ")
    return findings.Rule(
        id=rule_id,
        name=test,
        short=short[:300],
        help=" ".join(body[:3])[:1200] or f"See bandit's documentation of {test_id}.",
        severity=_SEVERITIES.get(severity, findings.Severity.LOW),
        tags=("security", "sast", "python"),
    )


def _finding(issue: object, shown: str, rule_id: str) -> findings.Finding:
    severity = _SEVERITIES.get(getattr(issue, "severity", ""), findings.Severity.LOW)
    if getattr(issue, "confidence", "") == "LOW":
        severity = _LOWER[severity]
    code = getattr(issue, "get_code")(max_lines=1) or ""  # noqa: B009 - bandit's API
    snippet = " ".join(str(code).split(" ", 1)[-1].split()) if code else None
    cwe = getattr(getattr(issue, "cwe", None), "id", 0)
    return findings.Finding(
        rule_id=rule_id,
        scanner="sast",
        severity=severity,
        message=str(getattr(issue, "text", "")),
        location=findings.Location(
            shown,
            int(getattr(issue, "lineno", 1) or 1),
            int(getattr(issue, "col_offset", 0) or 0) + 1,
            snippet=snippet,
        ),
        fingerprint=findings.fingerprint("sast", rule_id, shown, snippet or str(issue)),
        properties={
            "confidence": str(getattr(issue, "confidence", "")).lower(),
            **({"cwe": f"CWE-{cwe}"} if cwe else {}),
        },
    )
