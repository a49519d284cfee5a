"""The route table the server hands the router: typed, validated, and its JSON form.

A table is replaced whole (``apply_routes``), never patched, so a reader of the running router
always sees one consistent version. Instance readiness can change between tables
(``set_instance_state``). Pure: no I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shipyard.runtime.router import fields

MAX_WEIGHT = 1_000_000


class InstanceState(enum.StrEnum):
    """Whether an instance gets new requests.

    ``not_ready`` and ``draining`` both get none; a draining instance also has its idle pooled
    connections closed, and its busy ones closed once their response is done.
    """

    READY = "ready"
    NOT_READY = "not_ready"
    DRAINING = "draining"


@dataclass(frozen=True, slots=True)
class Instance:
    """One running process of a release, reachable at ``address`` (``127.0.0.1:9001``)."""

    address: str
    instance_id: str
    ready: bool = True


@dataclass(frozen=True, slots=True)
class UpstreamGroup:
    """The instances of one release, sharing the route's traffic in proportion to ``weight``."""

    release_id: str
    weight: int
    instances: tuple[Instance, ...] = ()


@dataclass(frozen=True, slots=True)
class Route:
    """Where an environment's traffic comes in and which releases serve it.

    The route listens on ``bind:port`` (every request there is its own) and/or answers on the
    table's shared ``vhost`` listener for the names in ``hosts`` (``staging.shop.localhost``).
    """

    app: str
    environment: str
    groups: tuple[UpstreamGroup, ...] = ()
    port: int | None = None
    bind: str = "127.0.0.1"
    hosts: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """How error pages and logs name the route."""
        return f"{self.app}/{self.environment}"


@dataclass(frozen=True, slots=True)
class Listen:
    """A TCP listening address."""

    port: int
    host: str = "127.0.0.1"

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Limits:
    """Request size limits; a request over one is answered with the 4xx named beside it."""

    max_request_line: int = 8192
    """Bytes of the request line (method, target, version); more is 414 URI Too Long."""
    max_header_bytes: int = 32768
    """Bytes of all header fields together; more is 431 Request Header Fields Too Large."""
    max_headers: int = 100
    """Number of header fields; more is 431."""
    max_body_bytes: int = 100 * 1024 * 1024
    """Bytes of a request body; more is 413 Content Too Large."""


@dataclass(frozen=True, slots=True)
class Timeouts:
    """How long the router waits, in seconds."""

    connect: float = 3.0
    """To open a connection to an instance; then the instance is ejected and another tried."""
    read: float = 60.0
    """For an instance's response head, and then between two reads of its body: 504 after."""
    client_header: float = 15.0
    """For a client to send a whole request head once it started one; then the connection closes."""
    client_idle: float = 60.0
    """An idle keep-alive client connection is closed after this."""
    upstream_idle: float = 4.0
    """An idle pooled connection to an instance is closed after this (keep it below the app's)."""


@dataclass(frozen=True, slots=True)
class RouteTable:
    """Everything the router serves, as one versioned value."""

    version: int
    routes: tuple[Route, ...] = ()
    vhost: Listen | None = None
    """The shared listener where the route is chosen by the Host header."""
    metrics: Listen | None = None
    """Where the router serves ``/metrics`` (Prometheus text format)."""
    limits: Limits = field(default_factory=Limits)
    timeouts: Timeouts = field(default_factory=Timeouts)
    trust_forwarded: bool = False
    """Keep and extend a client's X-Forwarded-*/Forwarded headers (only behind another proxy)."""

    def listeners(self) -> tuple[Listen, ...]:
        """The traffic listeners this table needs (not the metrics one)."""
        found = [Listen(route.port, route.bind) for route in self.routes if route.port is not None]
        if self.vhost is not None:
            found.append(self.vhost)
        return tuple(found)


def table_to_json(table: RouteTable) -> dict[str, Any]:
    """The JSON object of a table (every field written out)."""
    return {
        "version": table.version,
        "routes": [_route_to_json(route) for route in table.routes],
        "vhost": _listen_to_json(table.vhost),
        "metrics": _listen_to_json(table.metrics),
        "limits": {
            "max_request_line": table.limits.max_request_line,
            "max_header_bytes": table.limits.max_header_bytes,
            "max_headers": table.limits.max_headers,
            "max_body_bytes": table.limits.max_body_bytes,
        },
        "timeouts": {
            "connect": table.timeouts.connect,
            "read": table.timeouts.read,
            "client_header": table.timeouts.client_header,
            "client_idle": table.timeouts.client_idle,
            "upstream_idle": table.timeouts.upstream_idle,
        },
        "trust_forwarded": table.trust_forwarded,
    }


def _listen_to_json(listen: Listen | None) -> dict[str, Any] | None:
    return None if listen is None else {"host": listen.host, "port": listen.port}


def _route_to_json(route: Route) -> dict[str, Any]:
    return {
        "app": route.app,
        "environment": route.environment,
        "port": route.port,
        "bind": route.bind,
        "hosts": list(route.hosts),
        "groups": [
            {
                "release_id": group.release_id,
                "weight": group.weight,
                "instances": [
                    {"address": i.address, "instance_id": i.instance_id, "ready": i.ready}
                    for i in group.instances
                ],
            }
            for group in route.groups
        ],
    }


def table_from_json(value: object, path: str = "table") -> RouteTable:
    """Validate a decoded JSON table; :class:`ProtocolError` names the first bad field."""
    data = fields.obj(
        value,
        path,
        required=("version",),
        optional=("routes", "vhost", "metrics", "limits", "timeouts", "trust_forwarded"),
    )
    version = fields.integer(data["version"], f"{path}.version", minimum=1, maximum=2**63 - 1)
    raw_routes = fields.items(data.get("routes", []), f"{path}.routes")
    routes = tuple(_route(raw, f"{path}.routes[{i}]") for i, raw in enumerate(raw_routes))
    vhost = _listen(data.get("vhost"), f"{path}.vhost")
    metrics = _listen(data.get("metrics"), f"{path}.metrics")
    table = RouteTable(
        version=version,
        routes=routes,
        vhost=vhost,
        metrics=metrics,
        limits=_limits(data.get("limits", {}), f"{path}.limits"),
        timeouts=_timeouts(data.get("timeouts", {}), f"{path}.timeouts"),
        trust_forwarded=fields.boolean(
            data.get("trust_forwarded", False), f"{path}.trust_forwarded"
        ),
    )
    _check_table(table, path)
    return table


def _listen(value: object, path: str) -> Listen | None:
    if value is None:
        return None
    data = fields.obj(value, path, required=("port",), optional=("host",))
    port = fields.integer(data["port"], f"{path}.port", minimum=1, maximum=65535)
    host = fields.ip_literal(data.get("host", "127.0.0.1"), f"{path}.host")
    return Listen(port, host)


def _route(value: object, path: str) -> Route:
    data = fields.obj(
        value,
        path,
        required=("app", "environment"),
        optional=("port", "bind", "hosts", "groups"),
    )
    port = data.get("port")
    if port is not None:
        port = fields.integer(port, f"{path}.port", minimum=1, maximum=65535)
    raw_hosts = fields.items(data.get("hosts", []), f"{path}.hosts")
    raw_groups = fields.items(data.get("groups", []), f"{path}.groups")
    route = Route(
        app=fields.identifier(data["app"], f"{path}.app"),
        environment=fields.identifier(data["environment"], f"{path}.environment"),
        groups=tuple(_group(raw, f"{path}.groups[{i}]") for i, raw in enumerate(raw_groups)),
        port=port,
        bind=fields.ip_literal(data.get("bind", "127.0.0.1"), f"{path}.bind"),
        hosts=tuple(fields.hostname(raw, f"{path}.hosts[{i}]") for i, raw in enumerate(raw_hosts)),
    )
    if route.port is None and not route.hosts:
        raise fields.fail(
            path,
            f"route {route.label} has neither a port nor a host",
            hint="give it a port, or hosts served on the table's vhost listener",
        )
    _check_unique(
        [group.release_id for group in route.groups],
        lambda i: f"{path}.groups[{i}].release_id",
        "release",
    )
    addresses = [i.address for group in route.groups for i in group.instances]
    paths = [
        f"{path}.groups[{g}].instances[{i}].address"
        for g, group in enumerate(route.groups)
        for i in range(len(group.instances))
    ]
    _check_unique(addresses, lambda i: paths[i], "instance address")
    return route


def _group(value: object, path: str) -> UpstreamGroup:
    data = fields.obj(value, path, required=("release_id", "weight"), optional=("instances",))
    raw_instances = fields.items(data.get("instances", []), f"{path}.instances")
    return UpstreamGroup(
        release_id=fields.identifier(data["release_id"], f"{path}.release_id"),
        weight=fields.integer(data["weight"], f"{path}.weight", minimum=0, maximum=MAX_WEIGHT),
        instances=tuple(
            _instance(raw, f"{path}.instances[{i}]") for i, raw in enumerate(raw_instances)
        ),
    )


def _instance(value: object, path: str) -> Instance:
    data = fields.obj(value, path, required=("address", "instance_id"), optional=("ready",))
    text = fields.string(data["address"], f"{path}.address")
    fields.address(text, f"{path}.address")
    return Instance(
        address=text,
        instance_id=fields.identifier(data["instance_id"], f"{path}.instance_id"),
        ready=fields.boolean(data.get("ready", True), f"{path}.ready"),
    )


def _limits(value: object, path: str) -> Limits:
    names = ("max_request_line", "max_header_bytes", "max_headers", "max_body_bytes")
    data = fields.obj(value, path, required=(), optional=names)
    default = Limits()
    bounds = {
        "max_request_line": (64, 1 << 20),
        "max_header_bytes": (256, 1 << 24),
        "max_headers": (1, 10_000),
        "max_body_bytes": (0, 1 << 50),
    }
    read = {
        name: fields.integer(data[name], f"{path}.{name}", minimum=low, maximum=high)
        for name, (low, high) in bounds.items()
        if name in data
    }
    return Limits(
        max_request_line=read.get("max_request_line", default.max_request_line),
        max_header_bytes=read.get("max_header_bytes", default.max_header_bytes),
        max_headers=read.get("max_headers", default.max_headers),
        max_body_bytes=read.get("max_body_bytes", default.max_body_bytes),
    )


def _timeouts(value: object, path: str) -> Timeouts:
    names = ("connect", "read", "client_header", "client_idle", "upstream_idle")
    data = fields.obj(value, path, required=(), optional=names)
    default = Timeouts()
    read = {
        name: fields.seconds(data[name], f"{path}.{name}", minimum=0.01, maximum=86400.0)
        for name in names
        if name in data
    }
    return Timeouts(
        connect=read.get("connect", default.connect),
        read=read.get("read", default.read),
        client_header=read.get("client_header", default.client_header),
        client_idle=read.get("client_idle", default.client_idle),
        upstream_idle=read.get("upstream_idle", default.upstream_idle),
    )


def _check_table(table: RouteTable, path: str) -> None:
    _check_unique(
        [route.label for route in table.routes],
        lambda i: f"{path}.routes[{i}].environment",
        "route (app/environment)",
    )
    ports: dict[int, str] = {}
    if table.vhost is not None:
        ports[table.vhost.port] = f"{path}.vhost.port"
    if table.metrics is not None:
        if table.metrics.port in ports:
            raise fields.fail(
                f"{path}.metrics.port",
                f"port {table.metrics.port} is already the vhost listener's",
            )
        ports[table.metrics.port] = f"{path}.metrics.port"
    hosts: dict[str, str] = {}
    for i, route in enumerate(table.routes):
        if route.port is not None:
            other = ports.get(route.port)
            if other is not None:
                raise fields.fail(
                    f"{path}.routes[{i}].port",
                    f"port {route.port} is already used by {other}",
                    hint="each route listens on its own port; share a port through hosts and vhost",
                )
            ports[route.port] = f"{path}.routes[{i}].port"
        for j, host in enumerate(route.hosts):
            where = f"{path}.routes[{i}].hosts[{j}]"
            if table.vhost is None:
                raise fields.fail(
                    where,
                    "a route reached by host name needs the table's vhost listener",
                    hint='add "vhost": {"port": 8000} to the table',
                )
            if host in hosts:
                raise fields.fail(where, f"host {host!r} is already used by {hosts[host]}")
            hosts[host] = where


def _check_unique(values: list[str], path_of: Callable[[int], str], what: str) -> None:
    seen: set[str] = set()
    for i, value in enumerate(values):
        if value in seen:
            raise fields.fail(path_of(i), f"duplicate {what} {value!r}")
        seen.add(value)
