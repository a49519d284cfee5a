"""A strict reader of the Prometheus text exposition format 0.0.4, to check /metrics in tests.

Stricter than Prometheus on purpose: each family must open with its HELP and TYPE lines, its
samples must follow them without interruption, and names, label values and numbers must be
written exactly as the format says. A FormatError names the line that breaks a rule.
"""

from __future__ import annotations

import dataclasses
import math
import re

METRIC_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_HELP = re.compile(rf"# HELP ({METRIC_NAME}) (.*)")
_TYPE = re.compile(rf"# TYPE ({METRIC_NAME}) (counter|gauge|histogram|summary|untyped)")
_SAMPLE = re.compile(rf"({METRIC_NAME})(?:\{{(.*)\}})? (\S+)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')
_NUMBER = re.compile(r"[+-]?(?:Inf|NaN|[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)")
_ESCAPES = {"\\": "\\", '"': '"', "n": "\n"}
_SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("", "_sum", "_count")}


class FormatError(ValueError):
    """The text breaks a rule of the format; the message gives the line number."""


@dataclasses.dataclass(frozen=True)
class Sample:
    """One line of values: a series name, its labels and its value."""

    name: str
    labels: dict[str, str]
    value: float


@dataclasses.dataclass
class Family:
    """A metric family: its HELP text, TYPE and samples, in the order written."""

    name: str
    help_text: str
    kind: str = ""
    samples: list[Sample] = dataclasses.field(default_factory=list)

    def owns(self, series_name: str) -> bool:
        """Whether a sample of that name belongs to this family."""
        suffixes = _SUFFIXES.get(self.kind, ("",))
        return any(series_name == self.name + suffix for suffix in suffixes)


@dataclasses.dataclass
class Exposition:
    """A parsed exposition."""

    families: dict[str, Family]

    def value(self, name: str, **labels: str) -> float | None:
        """The value of the sample with exactly this name and these labels, or None."""
        for family in self.families.values():
            for sample in family.samples:
                if sample.name == name and sample.labels == labels:
                    return sample.value
        return None


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda match: _ESCAPES[match.group(1)], value)


def _labels(text: str, number: int) -> dict[str, str]:
    labels: dict[str, str] = {}
    position = 0
    while position < len(text):
        match = _LABEL.match(text, position)
        if match is None:
            raise FormatError(f"line {number}: malformed labels {{{text}}}")
        if match.group(1) in labels:
            raise FormatError(f"line {number}: label {match.group(1)} repeated")
        labels[match.group(1)] = _unescape(match.group(2))
        position = match.end()
    return labels


def _number(text: str, number: int) -> float:
    if not _NUMBER.fullmatch(text):
        raise FormatError(f"line {number}: {text!r} is not a number in the format's syntax")
    return float(text)


def parse_exposition(text: str) -> Exposition:
    """Parse and check ``text``; FormatError on the first line that breaks a rule."""
    if not text.endswith("\n"):
        raise FormatError("the exposition must end with a newline")
    families: dict[str, Family] = {}
    current: Family | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if help_match := _HELP.fullmatch(line):
            name = help_match.group(1)
            if name in families:
                raise FormatError(f"line {number}: family {name} appears twice")
            current = families[name] = Family(name, help_match.group(2))
        elif type_match := _TYPE.fullmatch(line):
            if current is None or current.name != type_match.group(1) or current.kind:
                raise FormatError(f"line {number}: TYPE must follow the HELP of its family")
            current.kind = type_match.group(2)
        elif line.startswith("#"):
            raise FormatError(f"line {number}: unexpected comment {line!r}")
        else:
            current = _add_sample(current, line, number)
    return Exposition(families)


def _add_sample(current: Family | None, line: str, number: int) -> Family:
    match = _SAMPLE.fullmatch(line)
    if match is None:
        raise FormatError(f"line {number}: malformed sample {line!r}")
    name = match.group(1)
    if current is None or not current.kind or not current.owns(name):
        raise FormatError(f"line {number}: sample {name} outside its family's HELP and TYPE")
    labels = _labels(match.group(2) or "", number)
    current.samples.append(Sample(name, labels, _number(match.group(3), number)))
    return current


def check_histogram(family: Family) -> None:
    """Check each series of a histogram: increasing bounds up to +Inf, cumulative counts,
    and a +Inf bucket equal to its _count. AssertionError names the series."""
    series: dict[tuple[tuple[str, str], ...], list[Sample]] = {}
    for sample in family.samples:
        key = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "le"))
        series.setdefault(key, []).append(sample)
    for key, samples in series.items():
        buckets = [s for s in samples if s.name.endswith("_bucket")]
        counts = [s.value for s in samples if s.name.endswith("_count")]
        bounds = [float(s.labels["le"]) for s in buckets]
        assert bounds == sorted(bounds) and len(set(bounds)) == len(bounds), f"{key}: {bounds}"
        assert bounds and math.isinf(bounds[-1]), f"{key}: the last bucket must be +Inf"
        cumulative = [s.value for s in buckets]
        assert cumulative == sorted(cumulative), f"{key}: buckets not cumulative: {cumulative}"
        assert counts == [cumulative[-1]], f"{key}: _count {counts} != +Inf bucket"
