"""Finding secrets in one text: the fast path every secret scan goes through. Pure: no I/O.

A text is lower-cased once; a rule's regular expression runs only when one of its keywords is in
it. Matches that look like placeholders, or sit on a line carrying ``shipyard:allow-secret`` (or
right below such a line), are dropped or marked as allowed. A secret is never returned in clear
outside ``Hit.secret``, which callers fingerprint and redact and then drop.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from shipyard.core.frozen import frozen
from shipyard.security import secret_filters, secret_rules

ALLOW_MARKER = "shipyard:allow-secret"
"""An inline comment that allows the secret on its line (or on the next line)."""

SNIPPET_CHARS = 160


@frozen
class Hit:
    """One secret in a text: the rule, where it starts, the secret and its line, redacted."""

    rule: secret_rules.SecretRule
    line: int
    column: int
    secret: str
    snippet: str
    allowed: bool


def redact(secret: str) -> str:
    """What a report shows of a secret: at most its first four characters, then stars."""
    if len(secret) >= 16:
        return secret[:4] + "*" * 12
    return "*" * 8


def search(text: str, rules: Iterable[secret_rules.SecretRule] = secret_rules.RULES) -> list[Hit]:
    """Every secret in ``text``, in order of position (overlapping matches of rules kept)."""
    lowered = text.lower()
    # Lower-casing keeps offsets only when no character changes length (almost always).
    folded = lowered if len(lowered) == len(text) else None
    hits: list[Hit] = []
    seen: set[tuple[int, str]] = set()
    for rule in rules:
        if not any(
            keyword in (text if keyword != keyword.lower() else lowered)
            for keyword in rule.keywords
        ):
            continue
        for match in _matches(rule, text, folded):
            start = match.start(rule.group)
            if rule.token_start and match.start() > 0 and _is_word(text[match.start() - 1]):
                continue
            secret = text[start : match.end(rule.group)]
            whole = text[match.start() : match.end()]
            if secret_filters.looks_like_placeholder(rule, secret, whole):
                continue
            if (start, secret) in seen:
                continue
            seen.add((start, secret))
            hits.append(_hit(text, rule, start, secret))
    hits.sort(key=lambda hit: (hit.line, hit.column))
    return _without_nested(hits)


def _matches(
    rule: secret_rules.SecretRule, text: str, folded: str | None
) -> Iterator[re.Match[str]]:
    if not rule.folded:
        return rule.pattern.finditer(text)
    if folded is not None:
        return rule.pattern.finditer(folded)
    return re.compile(rule.pattern.pattern, re.IGNORECASE | rule.pattern.flags).finditer(text)


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _hit(text: str, rule: secret_rules.SecretRule, start: int, secret: str) -> Hit:
    line = text.count("\n", 0, start) + 1
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    if line_end < 0:
        line_end = len(text)
    line_text = text[line_start:line_end]
    previous_start = text.rfind("\n", 0, max(0, line_start - 1)) + 1
    previous = text[previous_start : max(previous_start, line_start - 1)]
    allowed = ALLOW_MARKER in line_text or ALLOW_MARKER in previous
    first_line_of_secret = secret.split("\n", 1)[0]
    shown = line_text.replace(first_line_of_secret, redact(secret)).strip()
    if len(shown) > SNIPPET_CHARS:
        shown = shown[:SNIPPET_CHARS] + "…"
    return Hit(rule, line, start - line_start + 1, secret, shown, allowed)


def _without_nested(hits: list[Hit]) -> list[Hit]:
    """Drop a heuristic hit whose secret is also a provider rule's hit (one finding per secret)."""
    precise = {hit.secret for hit in hits if not hit.rule.heuristic}
    kept: list[Hit] = []
    for hit in hits:
        if hit.rule.heuristic and any(
            hit.secret in other or other in hit.secret for other in precise
        ):
            continue
        kept.append(hit)
    return kept
