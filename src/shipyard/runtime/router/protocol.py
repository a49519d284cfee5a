"""The control protocol: typed messages, their replies, and pure encode/decode.

One message per line, each a JSON object with a ``type``; the router answers each with one line
(``"ok": true`` and the reply's fields, or ``"ok": false`` and an error). docs/router.md lists them
with examples. Decoding validates everything and raises :class:`ProtocolError` naming the key path
of the first bad field. Pure: no I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from shipyard.runtime.router import errors, fields, routes

MAX_LINE = 16 * 1024 * 1024
"""The longest control line the router reads (a route table is one line)."""

LATENCY_BUCKETS: tuple[float, ...] = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
"""Upper bounds (seconds) of the latency histogram; a last, unbounded bucket follows."""

STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")


# Requests ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ping:
    """Is the router up? Answered with :class:`Pong`."""


@dataclass(frozen=True, slots=True)
class ApplyRoutes:
    """Replace the whole route table, atomically. Answered with :class:`Applied`.

    ``table.version`` must be greater than the running one (re-sending the running table itself is
    accepted and changes nothing).
    """

    table: routes.RouteTable


@dataclass(frozen=True, slots=True)
class SetInstanceState:
    """Mark every instance at ``address`` ready, not ready or draining, until the next table.

    Answered with :class:`InstanceStateSet`.
    """

    address: str
    state: routes.InstanceState


@dataclass(frozen=True, slots=True)
class GetStats:
    """The golden signals, summed over the workers. Answered with :class:`Stats`."""


@dataclass(frozen=True, slots=True)
class Shutdown:
    """Stop accepting, let in-flight requests finish for up to ``timeout`` seconds, then exit.

    Answered with :class:`ShuttingDown` at once; the connection closes when the router exits.
    """

    timeout: float = 30.0


Request = Ping | ApplyRoutes | SetInstanceState | GetStats | Shutdown


# Replies -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pong:
    """The router's process id, the running table version (0 before the first) and workers."""

    pid: int
    version: int
    workers: int


@dataclass(frozen=True, slots=True)
class Applied:
    """The table now running, and the traffic listeners it opened (``host:port``)."""

    version: int
    listeners: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class InstanceStateSet:
    """How many route instances (over all routes) had ``address``."""

    address: str
    state: routes.InstanceState
    matched: int


@dataclass(frozen=True, slots=True)
class InstanceSignals:
    """Golden signals of one instance of a release in an environment.

    Answers the router gives itself for a route (no instance ready, ...) are counted on a row
    whose ``release_id``, ``instance_id`` and ``address`` are empty.
    """

    app: str
    environment: str
    release_id: str
    instance_id: str
    address: str
    requests: int
    """Requests sent to this instance (or answered by the router, on the empty row)."""
    in_flight: int
    responses: tuple[int, int, int, int, int]
    """Responses by status class: 1xx, 2xx, 3xx, 4xx, 5xx."""
    latency_counts: tuple[int, ...]
    """Requests per latency bucket (not cumulative): one per LATENCY_BUCKETS bound, then +Inf."""
    latency_sum: float
    """Seconds, summed over requests: from the request head read to the response's last byte."""
    bytes_in: int
    """Bytes read from clients (request heads and bodies)."""
    bytes_out: int
    """Bytes written to clients (response heads and bodies)."""
    connect_errors: int
    """Connections to the instance that failed (refused, timed out, reset before an answer)."""
    ejections: int
    """Times the instance was taken out of rotation after a connection failure."""

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.app, self.environment, self.release_id, self.instance_id, self.address)


@dataclass(frozen=True, slots=True)
class Stats:
    """A snapshot of every signal row, summed over ``workers`` workers."""

    version: int
    workers: int
    signals: tuple[InstanceSignals, ...]


@dataclass(frozen=True, slots=True)
class ShuttingDown:
    """The router stopped accepting and exits within ``timeout`` seconds."""

    timeout: float


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """The message was refused; ``code`` is ``invalid_message`` or a code from docs/router.md."""

    code: str
    message: str
    key_path: str | None = None
    hint: str | None = None


Reply = Pong | Applied | InstanceStateSet | Stats | ShuttingDown | ErrorReply


# Encoding ----------------------------------------------------------------------------------


def encode(message: Request | Reply) -> bytes:
    """One line of compact JSON, newline included."""
    return json.dumps(to_json(message), separators=(",", ":")).encode() + b"\n"


def to_json(message: Request | Reply) -> dict[str, Any]:
    """The JSON object of a message or reply."""
    match message:
        case Ping():
            return {"type": "ping"}
        case ApplyRoutes(table):
            return {"type": "apply_routes", "table": routes.table_to_json(table)}
        case SetInstanceState(address, state):
            return {"type": "set_instance_state", "address": address, "state": state.value}
        case GetStats():
            return {"type": "stats"}
        case Shutdown(timeout):
            return {"type": "shutdown", "timeout": timeout}
        case Pong(pid, version, workers):
            return {"ok": True, "type": "pong", "pid": pid, "version": version, "workers": workers}
        case Applied(version, listeners):
            return {"ok": True, "type": "applied", "version": version, "listeners": list(listeners)}
        case InstanceStateSet(address, state, matched):
            return {
                "ok": True,
                "type": "instance_state",
                "address": address,
                "state": state.value,
                "matched": matched,
            }
        case Stats(version, workers, signals):
            return {
                "ok": True,
                "type": "stats",
                "version": version,
                "workers": workers,
                "signals": [_signals_to_json(row) for row in signals],
            }
        case ShuttingDown(timeout):
            return {"ok": True, "type": "shutting_down", "timeout": timeout}
        case ErrorReply(code, text, key_path, hint):
            return {
                "ok": False,
                "type": "error",
                "code": code,
                "message": text,
                "key_path": key_path,
                "hint": hint,
            }
    raise TypeError(f"not a control message: {message!r}")  # pragma: no cover


def _signals_to_json(row: InstanceSignals) -> dict[str, Any]:
    return {
        "app": row.app,
        "environment": row.environment,
        "release_id": row.release_id,
        "instance_id": row.instance_id,
        "address": row.address,
        "requests": row.requests,
        "in_flight": row.in_flight,
        "responses": dict(zip(STATUS_CLASSES, row.responses, strict=True)),
        "latency": {
            "buckets": list(LATENCY_BUCKETS),
            "counts": list(row.latency_counts),
            "sum": row.latency_sum,
        },
        "bytes_in": row.bytes_in,
        "bytes_out": row.bytes_out,
        "connect_errors": row.connect_errors,
        "ejections": row.ejections,
    }


def _load(line: bytes | str) -> dict[str, Any]:
    if len(line) > MAX_LINE:
        raise errors.ProtocolError(f"message is longer than {MAX_LINE} bytes")
    try:
        value = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise errors.ProtocolError(
            f"not valid JSON: {exc}", hint="send one JSON object per line"
        ) from None
    if not isinstance(value, dict):
        raise errors.ProtocolError(f"a message must be a JSON object, not {fields.kind(value)}")
    return value


REQUEST_TYPES = ("ping", "apply_routes", "set_instance_state", "stats", "shutdown")


def decode_request(line: bytes | str) -> Request:
    """Parse and validate one control line sent to the router."""
    data = _load(line)
    kind = fields.choice(data.get("type", ""), "type", REQUEST_TYPES) if "type" in data else None
    if kind is None:
        raise fields.fail("type", "is required", hint="one of: " + ", ".join(REQUEST_TYPES))
    if kind == "ping":
        fields.obj(data, "", required=("type",))
        return Ping()
    if kind == "stats":
        fields.obj(data, "", required=("type",))
        return GetStats()
    if kind == "apply_routes":
        fields.obj(data, "", required=("type", "table"))
        return ApplyRoutes(routes.table_from_json(data["table"]))
    if kind == "set_instance_state":
        fields.obj(data, "", required=("type", "address", "state"))
        address = fields.string(data["address"], "address")
        fields.address(address, "address")
        state = fields.choice(data["state"], "state", [s.value for s in routes.InstanceState])
        return SetInstanceState(address, routes.InstanceState(state))
    fields.obj(data, "", required=("type",), optional=("timeout",))
    timeout = fields.seconds(data.get("timeout", 30.0), "timeout", minimum=0.0, maximum=3600.0)
    return Shutdown(timeout)


def decode_reply(line: bytes | str) -> Reply:
    """Parse one reply line from the router (the client's side)."""
    data = _load(line)
    kind = data.get("type")
    try:
        if data.get("ok") is False or kind == "error":
            return ErrorReply(
                code=str(data["code"]),
                message=str(data["message"]),
                key_path=data.get("key_path"),
                hint=data.get("hint"),
            )
        if kind == "pong":
            return Pong(int(data["pid"]), int(data["version"]), int(data["workers"]))
        if kind == "applied":
            return Applied(int(data["version"]), tuple(str(x) for x in data["listeners"]))
        if kind == "instance_state":
            return InstanceStateSet(
                str(data["address"]), routes.InstanceState(data["state"]), int(data["matched"])
            )
        if kind == "stats":
            return Stats(
                int(data["version"]),
                int(data["workers"]),
                tuple(_signals_from_json(row) for row in data["signals"]),
            )
        if kind == "shutting_down":
            return ShuttingDown(float(data["timeout"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise errors.ProtocolError(f"malformed {kind} reply: {exc!r}") from None
    raise errors.ProtocolError(f"unknown reply type {kind!r}")


def _signals_from_json(data: dict[str, Any]) -> InstanceSignals:
    responses = data["responses"]
    latency = data["latency"]
    counts = tuple(int(x) for x in latency["counts"])
    if len(counts) != len(LATENCY_BUCKETS) + 1:
        raise ValueError("latency counts do not match the buckets")
    return InstanceSignals(
        app=str(data["app"]),
        environment=str(data["environment"]),
        release_id=str(data["release_id"]),
        instance_id=str(data["instance_id"]),
        address=str(data["address"]),
        requests=int(data["requests"]),
        in_flight=int(data["in_flight"]),
        responses=(
            int(responses["1xx"]),
            int(responses["2xx"]),
            int(responses["3xx"]),
            int(responses["4xx"]),
            int(responses["5xx"]),
        ),
        latency_counts=counts,
        latency_sum=float(latency["sum"]),
        bytes_in=int(data["bytes_in"]),
        bytes_out=int(data["bytes_out"]),
        connect_errors=int(data["connect_errors"]),
        ejections=int(data["ejections"]),
    )


def error_reply(exc: errors.RouterError) -> ErrorReply:
    """The reply that reports ``exc`` to the client."""
    code = exc.code if isinstance(exc, errors.ProtocolError | errors.RouterRefused) else "error"
    return ErrorReply(code, exc.message, exc.key_path, exc.hint)


def raise_error(reply: ErrorReply) -> None:
    """Raise the client-side error for an error reply."""
    if reply.code == errors.ProtocolError.code:
        raise errors.ProtocolError(reply.message, key_path=reply.key_path, hint=reply.hint)
    raise errors.RouterRefused(reply.code, reply.message, key_path=reply.key_path, hint=reply.hint)


def merge_signals(rows: list[InstanceSignals]) -> tuple[InstanceSignals, ...]:
    """Sum rows with the same key (one per worker) into one row per key, in key order."""
    merged: dict[tuple[str, str, str, str, str], InstanceSignals] = {}
    for row in rows:
        seen = merged.get(row.key)
        merged[row.key] = row if seen is None else _add(seen, row)
    return tuple(merged[key] for key in sorted(merged))


def _add(a: InstanceSignals, b: InstanceSignals) -> InstanceSignals:
    return InstanceSignals(
        app=a.app,
        environment=a.environment,
        release_id=a.release_id,
        instance_id=a.instance_id,
        address=a.address,
        requests=a.requests + b.requests,
        in_flight=a.in_flight + b.in_flight,
        responses=(
            a.responses[0] + b.responses[0],
            a.responses[1] + b.responses[1],
            a.responses[2] + b.responses[2],
            a.responses[3] + b.responses[3],
            a.responses[4] + b.responses[4],
        ),
        latency_counts=tuple(
            x + y for x, y in zip(a.latency_counts, b.latency_counts, strict=True)
        ),
        latency_sum=a.latency_sum + b.latency_sum,
        bytes_in=a.bytes_in + b.bytes_in,
        bytes_out=a.bytes_out + b.bytes_out,
        connect_errors=a.connect_errors + b.connect_errors,
        ejections=a.ejections + b.ejections,
    )
