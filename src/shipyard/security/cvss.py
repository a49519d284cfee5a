"""CVSS v3.x base scores from vector strings, for an advisory's severity. Pure: no I/O.

The formula is the one in the CVSS v3.1 specification (section 7.1), including its round-up.
"""

from __future__ import annotations

import math

from shipyard.security import findings

_WEIGHTS = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
    "I": {"H": 0.56, "L": 0.22, "N": 0.0},
    "A": {"H": 0.56, "L": 0.22, "N": 0.0},
}
_PRIVILEGES = {"U": {"N": 0.85, "L": 0.62, "H": 0.27}, "C": {"N": 0.85, "L": 0.68, "H": 0.5}}


def _round_up(value: float) -> float:
    whole = round(value * 100000)
    if whole % 10000 == 0:
        return whole / 100000.0
    return (math.floor(whole / 10000) + 1) / 10.0


def base_score(vector: str) -> float | None:
    """The base score of a ``CVSS:3.x/AV:N/...`` vector; None when it is not one."""
    if not vector.startswith("CVSS:3"):
        return None
    metrics = dict(part.split(":", 1) for part in vector.split("/")[1:] if ":" in part)
    try:
        scope = metrics["S"]
        impact_base = 1 - (
            (1 - _WEIGHTS["C"][metrics["C"]])
            * (1 - _WEIGHTS["I"][metrics["I"]])
            * (1 - _WEIGHTS["A"][metrics["A"]])
        )
        if scope == "U":
            impact = 6.42 * impact_base
        else:
            impact = 7.52 * (impact_base - 0.029) - 3.25 * (impact_base - 0.02) ** 15
        exploitability = (
            8.22
            * _WEIGHTS["AV"][metrics["AV"]]
            * _WEIGHTS["AC"][metrics["AC"]]
            * _PRIVILEGES[scope][metrics["PR"]]
            * _WEIGHTS["UI"][metrics["UI"]]
        )
    except KeyError:
        return None
    if impact <= 0:
        return 0.0
    if scope == "U":
        return _round_up(min(impact + exploitability, 10))
    return _round_up(min(1.08 * (impact + exploitability), 10))


def severity_of(score: float) -> findings.Severity:
    """The qualitative rating of a score (CVSS v3.1 table 14)."""
    if score >= 9.0:
        return findings.Severity.CRITICAL
    if score >= 7.0:
        return findings.Severity.HIGH
    if score >= 4.0:
        return findings.Severity.MEDIUM
    if score > 0.0:
        return findings.Severity.LOW
    return findings.Severity.INFO
