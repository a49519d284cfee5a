"""The ``services`` of ``shipyard.yaml``: commands, HTTP settings, probes and replicas. Pure.

services:
  web:
    build: pip install -r requirements.txt
    run: python -m shop.web --port $PORT
    http: { health: /healthz }
    readiness: { http: /readyz, interval: 1s, start_period: 30s }
    liveness: { http: /healthz, interval: 10s, failure_threshold: 3 }
    replicas: 2
    stop_grace: 10s
    env: { WORKERS: 4 }
    metrics: /metrics
"""

from __future__ import annotations

import math
import re

from shipyard.spec import node_reader, project, project_values, workflow, yamlsource
from shipyard.spec.node_reader import join

SERVICE_KEYS = frozenset(
    {"build", "run", "http", "readiness", "liveness", "replicas", "stop_grace", "env", "metrics"}
)
HTTP_KEYS = frozenset({"health"})
PROBE_KINDS = ("http", "tcp", "command")
PROBE_SETTINGS = frozenset(
    {"interval", "timeout", "success_threshold", "failure_threshold", "start_period"}
)
PROBE_KEYS = frozenset(PROBE_KINDS) | PROBE_SETTINGS
MAX_REPLICAS = 64

READINESS_DEFAULTS = project.Probe(kind="http")
LIVENESS_DEFAULTS = project.Probe(
    kind="http", interval=10.0, timeout=2.0, failure_threshold=3, start_period=0.0
)

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)\Z")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
DURATION_HINT = "write a duration such as `500ms`, `10s` or `2m` (a plain number is seconds)"


def read_services(
    reader: node_reader.NodeReader, node: yamlsource.Node
) -> dict[str, project.Service]:
    mapping = reader.mapping(node, "services")
    if mapping is None:
        return {}
    if not mapping.entries:
        reader.error(
            mapping.location, "services", "no services", "add at least one service with `run`"
        )
    found: dict[str, project.Service] = {}
    for name, entry in mapping.entries.items():
        path = join("services", name)
        if not project_values.check_key_name(reader, name, entry.key_location, path):
            continue
        service = _service(reader, name, entry.value, path)
        if service is not None:
            found[name] = service
    _one_http_service(reader, found)
    return found


def _one_http_service(reader: node_reader.NodeReader, services: dict[str, project.Service]) -> None:
    """An environment has one port, and the router sends it to one service: a second service
    with ``http`` would silently get no traffic, so it is refused."""
    first: str | None = None
    for name, service in services.items():
        if service.http is None:
            continue
        if first is None:
            first = name
            continue
        reader.error(
            service.source.where("http"),
            join(join("services", name), "http"),
            f"only one service can receive HTTP traffic, and `{first}` already does",
            "remove `http` from this service (a service without it runs without traffic: "
            "workers, schedulers), or make it a separate app with its own shipyard.yaml",
        )


def _service(
    reader: node_reader.NodeReader, name: str, node: yamlsource.Node, path: str
) -> project.Service | None:
    mapping = reader.mapping(node, path, "a mapping with `run`")
    if mapping is None:
        return None
    reader.check_keys(mapping, path, SERVICE_KEYS)
    entries = mapping.entries
    locations = {"": mapping.location}
    locations.update({key: entry.value.location for key, entry in entries.items()})

    def text(key: str) -> str | None:
        entry = entries.get(key)
        if entry is None:
            return None
        return reader.string(entry.value, join(path, key), strict=True, non_empty=True)

    run = None
    if reader.require(mapping, path, "run", "add the command that starts it", known=SERVICE_KEYS):
        run = text("run")
    http = _http(reader, entries["http"].value, join(path, "http")) if "http" in entries else None
    health = http.health if http is not None else None
    readiness = _default_probe(READINESS_DEFAULTS, health)
    if "readiness" in entries:
        readiness = read_probe(
            reader, entries["readiness"].value, join(path, "readiness"), READINESS_DEFAULTS
        )
    liveness = _default_probe(LIVENESS_DEFAULTS, health)
    if "liveness" in entries:
        liveness = read_probe(
            reader, entries["liveness"].value, join(path, "liveness"), LIVENESS_DEFAULTS
        )
    replicas = 1
    if "replicas" in entries:
        replicas = _replicas(reader, entries["replicas"].value, join(path, "replicas"))
    stop_grace = 10.0
    if "stop_grace" in entries:
        found = read_duration(reader, entries["stop_grace"].value, join(path, "stop_grace"))
        stop_grace = found if found is not None else stop_grace
    env: dict[str, str] = {}
    if "env" in entries:
        env = project_values.read_variables(reader, entries["env"].value, join(path, "env"))
    metrics = None
    if "metrics" in entries:
        metrics = read_path(reader, entries["metrics"].value, join(path, "metrics"))
    if run is None:
        return None
    return project.Service(
        name=name,
        run=run,
        build=text("build"),
        http=http,
        readiness=readiness,
        liveness=liveness,
        replicas=replicas,
        stop_grace=stop_grace,
        env=env,
        metrics=metrics,
        source=workflow.SourceMap(reader.file, path, locations),
    )


def _default_probe(defaults: project.Probe, health: str | None) -> project.Probe | None:
    if health is None:
        return None
    return project.Probe(
        kind="http",
        target=health,
        interval=defaults.interval,
        timeout=defaults.timeout,
        success_threshold=defaults.success_threshold,
        failure_threshold=defaults.failure_threshold,
        start_period=defaults.start_period,
    )


def _http(
    reader: node_reader.NodeReader, node: yamlsource.Node, path: str
) -> project.HttpSettings | None:
    if isinstance(node, yamlsource.ScalarNode) and node.value is True:
        return project.HttpSettings()
    mapping = reader.mapping(node, path, "`true` or a mapping such as `{ health: /healthz }`")
    if mapping is None:
        return None
    reader.check_keys(mapping, path, HTTP_KEYS)
    health = None
    if "health" in mapping.entries:
        health = read_path(reader, mapping.entries["health"].value, join(path, "health"))
    return project.HttpSettings(health=health)


def read_path(reader: node_reader.NodeReader, node: yamlsource.Node, path: str) -> str | None:
    """An HTTP path: starts with ``/``, no spaces."""
    value = reader.string(node, path, strict=True, non_empty=True)
    if value is None:
        return None
    if not value.startswith("/") or any(character.isspace() for character in value):
        reader.error(
            node.location,
            path,
            f"expected an HTTP path such as `/healthz`, found `{value}`",
            "start it with `/` and leave out spaces",
        )
        return None
    return value


def read_probe(
    reader: node_reader.NodeReader, node: yamlsource.Node, path: str, defaults: project.Probe
) -> project.Probe | None:
    """A probe: exactly one of ``http``, ``tcp``, ``command``, and its timing settings."""
    mapping = reader.mapping(node, path, "a mapping such as `{ http: /readyz }`")
    if mapping is None:
        return None
    reader.check_keys(mapping, path, PROBE_KEYS)
    entries = mapping.entries
    kinds = [key for key in PROBE_KINDS if key in entries]
    if len(kinds) != 1:
        message = "expected one of `http`, `tcp` or `command`"
        found = ", ".join(f"`{kind}`" for kind in kinds)
        reader.error(
            mapping.location,
            path,
            f"{message}, found {found}" if kinds else message,
            "`http: /path` checks an HTTP answer, `tcp: true` a connection, "
            "`command: ...` an exit status",
        )
        return None
    kind = kinds[0]
    target = _probe_target(reader, kind, entries[kind].value, join(path, kind))
    if target is None:
        return None
    durations: dict[str, float] = {}
    for key in ("interval", "timeout", "start_period"):
        default: float = getattr(defaults, key)
        durations[key] = default
        if key in entries:
            found_duration = read_duration(
                reader, entries[key].value, join(path, key), allow_zero=key == "start_period"
            )
            durations[key] = found_duration if found_duration is not None else default
    thresholds: dict[str, int] = {}
    for key in ("success_threshold", "failure_threshold"):
        thresholds[key] = getattr(defaults, key)
        if key in entries:
            value = reader.number(entries[key].value, join(path, key), kind="integer", above=0)
            if isinstance(value, int):
                thresholds[key] = value
    return project.Probe(
        kind="http" if kind == "http" else "tcp" if kind == "tcp" else "command",
        target=target,
        interval=durations["interval"],
        timeout=durations["timeout"],
        start_period=durations["start_period"],
        success_threshold=thresholds["success_threshold"],
        failure_threshold=thresholds["failure_threshold"],
    )


def _probe_target(
    reader: node_reader.NodeReader, kind: str, node: yamlsource.Node, path: str
) -> str | None:
    if kind == "http":
        return read_path(reader, node, path)
    if kind == "command":
        return reader.string(node, path, strict=True, non_empty=True)
    value = reader.boolean(node, path)
    if value is False:
        reader.error(node.location, path, "`tcp: false` checks nothing", "write `tcp: true`")
        return None
    return "" if value is True else None


def _replicas(reader: node_reader.NodeReader, node: yamlsource.Node, path: str) -> int:
    value = reader.number(node, path, kind="integer")
    if not isinstance(value, int):
        return 1
    if not 1 <= value <= MAX_REPLICAS:
        reader.error(
            node.location,
            path,
            f"expected from 1 to {MAX_REPLICAS} replicas, found `{value}`",
            "to stop a service in an environment, use `shipyard down`",
        )
        return 1
    return value


def read_duration(
    reader: node_reader.NodeReader, node: yamlsource.Node, path: str, *, allow_zero: bool = False
) -> float | None:
    """``500ms``, ``10s``, ``2m``, ``1h`` or a plain number of seconds."""
    seconds = parse_duration(node.value if isinstance(node, yamlsource.ScalarNode) else None)
    if seconds is None or seconds > 24 * 3600:
        reader.wrong_type(node, path, "a duration", DURATION_HINT)
        return None
    if seconds == 0 and not allow_zero:
        reader.error(node.location, path, "expected a duration above zero", DURATION_HINT)
        return None
    return seconds


def parse_duration(value: object) -> float | None:
    """Seconds from ``500ms``/``10s``/``2m``/``1h`` or a non-negative number; None if invalid."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) and value >= 0 else None
    if not isinstance(value, str):
        return None
    match = _DURATION.match(value.strip())
    if match is None:
        return None
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
