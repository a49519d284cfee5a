"""Secret detection in the working tree and, with ``--history``, in every commit.

Rules live in ``secret_rules`` and the search in ``secret_search``; this module walks the tree or
the history and turns hits into findings. A finding shows the secret redacted; its fingerprint
is built from the rule, the path and a hash of the secret, so it is the same finding in the tree
and in any commit, and it survives lines moving.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator

from shipyard.core import errors
from shipyard.security import files as tree
from shipyard.security import findings, git_history, interface, secret_rules, secret_search

MAX_FILE_BYTES = 2 * 1024 * 1024
"""Larger files are skipped (and named in a notice): secrets live in source and config files."""
_SKIPPED_SUFFIXES = (".min.js", ".map", ".lock", ".svg", ".pdf", ".png", ".jpg", ".gif")


def _rule(rule: secret_rules.SecretRule) -> findings.Rule:
    kind = "a keyword-and-entropy heuristic" if rule.heuristic else "its documented format"
    return findings.Rule(
        id=f"secret/{rule.id}",
        name=rule.name,
        short=f"{rule.name} in the repository (found by {kind}).",
        help=(
            "Revoke and rotate the credential first: whoever can read the repository or its "
            "history can use it. Then remove it from the file (and from history if committed) and "
            "load it at run time from an encrypted secret (`.shipyard/secrets/`). If it is not a "
            "real secret, add `shipyard:allow-secret` in a comment on its line or record it in "
            "the baseline (`shipyard scan --update-baseline`)."
        ),
        severity=rule.severity,
        tags=("security", "secret"),
    )


RULES = {f"secret/{rule.id}": _rule(rule) for rule in secret_rules.RULES}


class SecretScanner:
    """Provider-format rules and keyword heuristics over text files and git history."""

    name = "secrets"

    def scan(self, context: interface.ScanContext) -> interface.ScanResult:
        started = time.perf_counter()
        found: dict[str, findings.Finding] = {}
        notices: list[interface.Notice] = []
        skipped = 0
        for path, file in tree.walk(context.root, context.excludes):
            if path.endswith(_SKIPPED_SUFFIXES):
                continue
            text = tree.read_text(file, MAX_FILE_BYTES)
            if text is None:
                skipped += 1
                continue
            for finding in scan_text(text, path):
                found.setdefault(finding.fingerprint, finding)
        if skipped:
            notices.append(
                interface.Notice(f"{skipped} binary, unreadable or larger than 2 MiB files skipped")
            )
        if context.history:
            if not git_history.is_repository(context.root):
                raise errors.UsageError(
                    f"--history needs a git repository, and {context.root} is not in one",
                    hint="run the scan at the root of a clone, or leave out --history",
                )
            for added in git_history.added_texts(context.root):
                for finding in scan_text(added.text, added.path, added.numbers, added.commit):
                    found.setdefault(finding.fingerprint, finding)
        return interface.ScanResult(
            scanner=self.name,
            tool="shipyard-secrets",
            version="1",
            rules=RULES,
            findings=list(found.values()),
            notices=notices,
            seconds=time.perf_counter() - started,
        )


def scan_text(
    text: str, path: str, numbers: list[int] | None = None, commit: str | None = None
) -> Iterator[findings.Finding]:
    """The findings in one text; ``numbers`` maps its lines to the file's (history texts)."""
    for hit in secret_search.search(text):
        line = numbers[hit.line - 1] if numbers is not None else hit.line
        secret_hash = hashlib.sha256(hit.secret.encode("utf-8", "surrogatepass")).hexdigest()
        where = f" (added in commit {commit[:12]})" if commit else ""
        properties: dict[str, object] = {"redacted": secret_search.redact(hit.secret)}
        if commit:
            properties["commit"] = commit
        yield findings.Finding(
            rule_id=f"secret/{hit.rule.id}",
            scanner="secrets",
            severity=hit.rule.severity,
            message=f"{hit.rule.name} `{secret_search.redact(hit.secret)}`{where}",
            location=findings.Location(path, line, hit.column, snippet=hit.snippet),
            fingerprint=findings.fingerprint("secrets", hit.rule.id, path, secret_hash),
            category="secret",
            properties=properties,
            suppressed="inline" if hit.allowed else None,
        )
