"""Filters that keep look-alikes out of the secret scan's findings. Pure: no I/O.

A match of a rule is dropped when it is a stand-in rather than a secret: a documented example key,
a value without the entropy of a real credential, a template variable or placeholder word, a code
reference, a UUID, or a hash under a hash-named key. Provider-format rules only get the first
checks; the keyword heuristics get them all.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from shipyard.security import secret_rules

_PLACEHOLDER_WORDS = (
    "example",
    "changeme",
    "change_me",
    "change-me",
    "placeholder",
    "dummy",
    "sample",
    "redacted",
    "your_",
    "your-",
    "yourpass",
    "xxxx",
    "****",
    "<",
    ">",
    "${",
    "{{",
    "%(",
    "$(",
    "%s",
    "%d",
    "fake",
    "notasecret",
    "not-a-secret",
    "replace",
    "insert",
    "todo",
    "secret_here",
    "password1",
    "password123",
    "123456",
    "abcdef",
    "qwerty",
    "letmein",
    "test1234",
    "environ",
    "getenv",
    "settings.",
    "config.",
    "self.",
    "process.env",
)
_DOC_EXAMPLES = frozenset(
    {
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    }
)
_SELF_NAMING = ("secret", "token", "password", "passwd", "apikey", "api_key", "s3cr3t")
_CODE_OR_PATH = re.compile(r"[()\[\]{}]|\A(?:\.{1,2}/|~/|/|\.[A-Za-z][\w-]*/)")
_HASH_KEYS = ("hash", "sha", "md5", "digest", "checksum", "fingerprint", "etag")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")
_HEX = re.compile(r"[0-9a-fA-F]+\Z")
_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\Z")


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    if not text:
        return 0.0
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in Counter(text).values())


def looks_like_placeholder(rule: secret_rules.SecretRule, secret: str, matched: str = "") -> bool:
    """True when a match is a stand-in (an example, a template variable, a hash) not a secret.

    ``matched`` is the whole match (the key name included) for the keyword heuristics.
    """
    if secret in _DOC_EXAMPLES or "EXAMPLE" in secret:
        return True
    if entropy(secret) < rule.min_entropy:
        return True
    if len(set(secret)) < 5:
        return True
    if not rule.heuristic and rule.min_entropy > 0:
        return False
    lowered = secret.lower()
    if any(word in lowered for word in _PLACEHOLDER_WORDS):
        return True
    if rule.heuristic:
        # A value naming what it is ("AGE-SECRET-KEY-1"), code, a path or a format is no secret.
        if any(word in lowered for word in _SELF_NAMING) or _CODE_OR_PATH.search(secret):
            return True
        # Names and dotted references are code, not secrets; hashes and UUIDs are identifiers.
        if _IDENTIFIER.match(secret) and not any(char.isdigit() for char in secret):
            return True
        if _UUID.match(secret):
            return True
        key = matched[: max(0, len(matched) - len(secret))].lower()
        if _HEX.match(secret) and any(word in key for word in _HASH_KEYS):
            return True
    return False
