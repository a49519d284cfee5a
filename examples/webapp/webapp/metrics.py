"""Counters, gauges and histograms, exposed in Prometheus text format 0.0.4, written by hand.

Each metric family guards its samples with its own lock, so request threads record without
waiting on a scrape of another family. Rendering takes a snapshot and never blocks recording for
longer than a copy. No I/O here: the server sends the rendered text.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

LabelValues = tuple[str, ...]


def escape_label_value(value: str) -> str:
    """Escape a label value as the text format requires: backslash, double quote, newline."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(text: str) -> str:
    """Escape HELP text as the text format requires: backslash and newline."""
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def format_value(value: float) -> str:
    """Format a sample value: integers without a fraction, infinities as +Inf/-Inf."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _series(name: str, labelnames: Sequence[str], values: Sequence[str]) -> str:
    if not labelnames:
        return name
    pairs = ",".join(
        f'{label}="{escape_label_value(value)}"'
        for label, value in zip(labelnames, values, strict=True)
    )
    return f"{name}{{{pairs}}}"


class _Family:
    """What every metric family shares: a name, help text, label names and a lock."""

    kind = "untyped"

    def __init__(self, name: str, help_text: str, labelnames: Sequence[str] = ()) -> None:
        self.name = name
        self.help_text = help_text
        self.labelnames = tuple(labelnames)
        self._lock = threading.Lock()

    def _check(self, labels: LabelValues) -> None:
        if len(labels) != len(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}, got {labels}")

    def header(self) -> Iterator[str]:
        yield f"# HELP {self.name} {escape_help(self.help_text)}"
        yield f"# TYPE {self.name} {self.kind}"

    def sample_lines(self) -> Iterator[str]:
        raise NotImplementedError


_FamilyT = TypeVar("_FamilyT", bound=_Family)


class _LabelledValues(_Family):
    """A value per label set, kept here."""

    def __init__(self, name: str, help_text: str, labelnames: Sequence[str] = ()) -> None:
        super().__init__(name, help_text, labelnames)
        self._values: dict[LabelValues, float] = {}

    def _add(self, labels: LabelValues, amount: float) -> None:
        self._check(labels)
        with self._lock:
            self._values[labels] = self._values.get(labels, 0) + amount

    def sample_lines(self) -> Iterator[str]:
        with self._lock:
            values = sorted(self._values.items())
        for labels, value in values:
            yield f"{_series(self.name, self.labelnames, labels)} {format_value(value)}"


class Counter(_LabelledValues):
    """A value per label set that only goes up."""

    kind = "counter"

    def inc(self, labels: LabelValues = (), amount: float = 1) -> None:
        """Add ``amount`` (never negative) to the series of ``labels``."""
        if amount < 0:
            raise ValueError(f"{self.name}: a counter cannot decrease")
        self._add(labels, amount)


class Gauge(_LabelledValues):
    """A value per label set that goes up and down."""

    kind = "gauge"

    def inc(self, labels: LabelValues = (), amount: float = 1) -> None:
        """Add ``amount`` to the series of ``labels``."""
        self._add(labels, amount)

    def dec(self, labels: LabelValues = (), amount: float = 1) -> None:
        """Subtract ``amount`` from the series of ``labels``."""
        self._add(labels, -amount)


class CallbackGauge(_Family):
    """A single value read from a function when rendered: the value lives elsewhere."""

    kind = "gauge"

    def __init__(
        self,
        name: str,
        help_text: str,
        read: Callable[[], float],
        labels: dict[str, str] | None = None,
    ) -> None:
        super().__init__(name, help_text, tuple(labels or {}))
        self._labels = tuple((labels or {}).values())
        self._read = read

    def sample_lines(self) -> Iterator[str]:
        series = _series(self.name, self.labelnames, self._labels)
        yield f"{series} {format_value(self._read())}"


class _HistogramSeries:
    """Counts per bucket (not yet cumulative), sum and count of one label set."""

    __slots__ = ("bucket_counts", "count", "total")

    def __init__(self, bucket_count: int) -> None:
        self.bucket_counts = [0] * bucket_count
        self.count = 0
        self.total = 0.0


class Histogram(_Family):
    """Observations counted into buckets by upper bound, with their sum and count."""

    kind = "histogram"

    def __init__(
        self,
        name: str,
        help_text: str,
        labelnames: Sequence[str] = (),
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> None:
        if "le" in labelnames:
            raise ValueError(f"{name}: 'le' is reserved for bucket bounds")
        if list(buckets) != sorted(set(buckets)):
            raise ValueError(f"{name}: buckets must be strictly increasing")
        super().__init__(name, help_text, labelnames)
        self.buckets = tuple(float(bound) for bound in buckets)
        self._series: dict[LabelValues, _HistogramSeries] = {}

    def observe(self, value: float, labels: LabelValues = ()) -> None:
        """Record one observation in the series of ``labels``."""
        self._check(labels)
        # The first bucket whose upper bound is >= value; len(buckets) stands for +Inf.
        index = bisect.bisect_left(self.buckets, value)
        with self._lock:
            series = self._series.get(labels)
            if series is None:
                series = self._series[labels] = _HistogramSeries(len(self.buckets) + 1)
            series.bucket_counts[index] += 1
            series.count += 1
            series.total += value

    def sample_lines(self) -> Iterator[str]:
        with self._lock:
            snapshot = [
                (labels, list(series.bucket_counts), series.count, series.total)
                for labels, series in sorted(self._series.items())
            ]
        bucket_labels = (*self.labelnames, "le")
        # Bounds print as Prometheus's own clients print them: 1.0, 0.005, +Inf.
        bounds = [repr(bound) for bound in self.buckets] + ["+Inf"]
        for labels, bucket_counts, count, total in snapshot:
            cumulative = 0
            for bound, bucket_count in zip(bounds, bucket_counts, strict=True):
                cumulative += bucket_count
                series = _series(f"{self.name}_bucket", bucket_labels, (*labels, bound))
                yield f"{series} {cumulative}"
            yield f"{_series(f'{self.name}_sum', self.labelnames, labels)} {format_value(total)}"
            yield f"{_series(f'{self.name}_count', self.labelnames, labels)} {count}"


class Registry:
    """The metric families of one process, rendered together in registration order."""

    def __init__(self) -> None:
        self._families: list[_Family] = []

    def register(self, family: _FamilyT) -> _FamilyT:
        """Add a family and return it, so it can be created and registered in one line."""
        if any(existing.name == family.name for existing in self._families):
            raise ValueError(f"metric {family.name} is already registered")
        self._families.append(family)
        return family

    def render(self) -> str:
        """The whole exposition, one line per sample, ending with a newline."""
        lines: list[str] = []
        for family in self._families:
            lines.extend(family.header())
            lines.extend(family.sample_lines())
        return "\n".join(lines) + "\n"
