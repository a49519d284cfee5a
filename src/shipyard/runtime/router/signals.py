"""Golden signals: the counters a worker bumps per request, and their Prometheus exposition.

A worker keeps one :class:`Counters` per (app, environment, release, instance, address), created
when a route table names it and kept for a while after it leaves the table, so a scrape right
after a rollout still sees the old release's last requests. The parent sums the workers'
snapshots (:func:`shipyard.runtime.router.protocol.merge_signals`) and renders them with
:func:`render`. Pure: no I/O.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from shipyard.runtime.router import protocol

RETIRE_AFTER = 300.0
"""Seconds a row stays exported after its instance left the route table (once idle)."""

_BUCKETS = protocol.LATENCY_BUCKETS
_bucket_of = bisect.bisect_left

Key = tuple[str, str, str, str, str]


class Counters:
    """Mutable signal counters of one row; bumped in place on the hot path."""

    __slots__ = (
        "bytes_in",
        "bytes_out",
        "connect_errors",
        "ejections",
        "in_flight",
        "key",
        "latency",
        "latency_sum",
        "requests",
        "responses",
        "retire_at",
    )

    def __init__(self, key: Key) -> None:
        self.key = key
        self.requests = 0
        self.in_flight = 0
        self.responses = [0] * 10
        """By the status code's first digit; 1-5 are exported."""
        self.latency = [0] * (len(_BUCKETS) + 1)
        self.latency_sum = 0.0
        self.bytes_in = 0
        self.bytes_out = 0
        self.connect_errors = 0
        self.ejections = 0
        self.retire_at = 0.0

    def finish(self, status: int, seconds: float) -> None:
        """Count one response (``status`` 0 when none could be sent) that took ``seconds``."""
        self.in_flight -= 1
        self.responses[status // 100] += 1  # llhttp gives 3 digits; the index 0 is "none sent"
        self.latency[_bucket_of(_BUCKETS, seconds)] += 1
        self.latency_sum += seconds

    def snapshot(self) -> protocol.InstanceSignals:
        app, environment, release_id, instance_id, address = self.key
        r = self.responses
        return protocol.InstanceSignals(
            app=app,
            environment=environment,
            release_id=release_id,
            instance_id=instance_id,
            address=address,
            requests=self.requests,
            in_flight=self.in_flight,
            responses=(r[1], r[2], r[3], r[4], r[5]),
            latency_counts=tuple(self.latency),
            latency_sum=self.latency_sum,
            bytes_in=self.bytes_in,
            bytes_out=self.bytes_out,
            connect_errors=self.connect_errors,
            ejections=self.ejections,
        )


class CounterSet:
    """Every row of one worker, by key."""

    def __init__(self) -> None:
        self._rows: dict[Key, Counters] = {}

    def get(self, key: Key) -> Counters:
        """The row for ``key``, created on first use; a row in use again is no longer retiring."""
        row = self._rows.get(key)
        if row is None:
            row = self._rows[key] = Counters(key)
        row.retire_at = 0.0
        return row

    def keep_only(self, keys: Iterable[Key], now: float) -> None:
        """Start retiring rows not in ``keys``; drop those retired long enough and idle."""
        wanted = set(keys)
        for key, row in list(self._rows.items()):
            if key in wanted:
                continue
            if row.retire_at == 0.0:
                row.retire_at = now + RETIRE_AFTER
            elif row.retire_at <= now and row.in_flight <= 0:
                del self._rows[key]

    def snapshot(self) -> tuple[protocol.InstanceSignals, ...]:
        return tuple(row.snapshot() for row in self._rows.values())


# Prometheus text exposition (format 0.0.4) -------------------------------------------------

_SERIES = (
    (
        "shipyard_router_requests_total",
        "counter",
        "Requests sent to an instance, or answered by the router itself (empty release).",
    ),
    ("shipyard_router_responses_total", "counter", "Responses by status class."),
    (
        "shipyard_router_request_duration_seconds",
        "histogram",
        "From reading a request head to writing the response's last byte.",
    ),
    ("shipyard_router_requests_in_flight", "gauge", "Requests being served now."),
    ("shipyard_router_request_bytes_total", "counter", "Bytes read from clients."),
    ("shipyard_router_response_bytes_total", "counter", "Bytes written to clients."),
    (
        "shipyard_router_upstream_connect_errors_total",
        "counter",
        "Failed connections to an instance (refused, timed out, reset before an answer).",
    ),
    (
        "shipyard_router_upstream_ejections_total",
        "counter",
        "Times an instance was taken out of rotation after a connection failure.",
    ),
)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(row: protocol.InstanceSignals) -> str:
    return (
        f'app="{_escape(row.app)}",environment="{_escape(row.environment)}",'
        f'release="{_escape(row.release_id)}",instance="{_escape(row.instance_id)}",'
        f'address="{_escape(row.address)}"'
    )


def _number(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


def render(stats: protocol.Stats) -> str:
    """The Prometheus text exposition of a stats snapshot."""
    rows = stats.signals
    labels = [_labels(row) for row in rows]
    lines: list[str] = []
    for name, kind, help_text in _SERIES:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        for row, label in zip(rows, labels, strict=True):
            lines.extend(_series(name, row, label))
    lines.append("# HELP shipyard_router_route_table_version Version of the running route table.")
    lines.append("# TYPE shipyard_router_route_table_version gauge")
    lines.append(f"shipyard_router_route_table_version {stats.version}")
    lines.append("# HELP shipyard_router_workers Worker processes serving traffic.")
    lines.append("# TYPE shipyard_router_workers gauge")
    lines.append(f"shipyard_router_workers {stats.workers}")
    return "\n".join(lines) + "\n"


def _series(name: str, row: protocol.InstanceSignals, label: str) -> list[str]:
    if name == "shipyard_router_requests_total":
        return [f"{name}{{{label}}} {row.requests}"]
    if name == "shipyard_router_responses_total":
        return [
            f'{name}{{{label},code="{code}"}} {count}'
            for code, count in zip(protocol.STATUS_CLASSES, row.responses, strict=True)
        ]
    if name == "shipyard_router_request_duration_seconds":
        out = []
        cumulative = 0
        bounds = [*(_number(b) for b in _BUCKETS), "+Inf"]
        for bound, count in zip(bounds, row.latency_counts, strict=True):
            cumulative += count
            out.append(f'{name}_bucket{{{label},le="{bound}"}} {cumulative}')
        out.append(f"{name}_sum{{{label}}} {_number(row.latency_sum)}")
        out.append(f"{name}_count{{{label}}} {cumulative}")
        return out
    value = {
        "shipyard_router_requests_in_flight": row.in_flight,
        "shipyard_router_request_bytes_total": row.bytes_in,
        "shipyard_router_response_bytes_total": row.bytes_out,
        "shipyard_router_upstream_connect_errors_total": row.connect_errors,
        "shipyard_router_upstream_ejections_total": row.ejections,
    }[name]
    return [f"{name}{{{label}}} {value}"]
