"""The application: turns a parsed request into a response, counting it and injecting faults.

Transport-free: it takes a Request and returns a Response, so tests can call it in-process and
the server only moves bytes. It sleeps when a fault knob or /slow asks it to; its only other I/O is
/banner's one request to the flag service (``webapp.flags``).
"""

from __future__ import annotations

import dataclasses
import html
import json
import platform
import re
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

from webapp import faults, flags, items, lifecycle, metrics, settings

JSON = "application/json"
HTML = "text/html; charset=utf-8"
# Probes and scrapes are never slowed down nor failed by the fault knobs: a deploy must be able
# to tell a slow or failing release from one that cannot be observed.
PROBE_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
MAX_SLOW_MS = 60_000
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
ITEM_ROUTE = "/api/items/{id}"
OTHER_ROUTE = "other"
_ITEM_PATH = re.compile(r"/api/items/([0-9]{1,9})")


@dataclasses.dataclass(frozen=True)
class Request:
    """What the application needs of an HTTP request."""

    method: str
    path: str
    query: str = ""
    body: bytes = b""
    accept: str = ""


@dataclasses.dataclass(frozen=True)
class Response:
    """What the application answers; the server adds Content-Length and the common headers."""

    status: int
    body: bytes
    content_type: str = JSON
    headers: tuple[tuple[str, str], ...] = ()


def json_response(
    status: int, document: Any, headers: tuple[tuple[str, str], ...] = ()
) -> Response:
    """A compact JSON response ending with a newline (pleasant in a terminal)."""
    body = json.dumps(document, separators=(",", ":")) + "\n"
    return Response(status, body.encode("utf-8"), JSON, headers)


def error_response(
    status: int, message: str, headers: tuple[tuple[str, str], ...] = ()
) -> Response:
    """A JSON error: ``{"error": message}``."""
    return json_response(status, {"error": message}, headers)


Endpoint = Callable[[Request], Response]


class Application:
    """Routes, state and metrics of one process."""

    def __init__(self, config: settings.Settings) -> None:
        self.settings = config
        self.lifecycle = lifecycle.Lifecycle(
            startup_delay_seconds=config.faults.startup_delay_ms / 1000,
            unhealthy=config.faults.unhealthy,
        )
        self.faults = faults.FaultInjector(config.faults)
        self.items = items.ItemStore()
        self.started_at = time.time()
        self.metrics = metrics.Registry()
        self._requests = self.metrics.register(
            metrics.Counter(
                "http_requests_total",
                "HTTP requests answered, by method, route and status code.",
                ("method", "path", "status"),
            )
        )
        self._durations = self.metrics.register(
            metrics.Histogram(
                "http_request_duration_seconds",
                "Time from reading a request to having its response ready, by method and route.",
                ("method", "path"),
            )
        )
        self._register_gauges()
        self._routes: dict[str, dict[str, Endpoint]] = {
            "/": {"GET": self._index},
            "/healthz": {"GET": self._healthz},
            "/readyz": {"GET": self._readyz},
            "/version": {"GET": self._version},
            "/metrics": {"GET": self._metrics},
            "/slow": {"GET": self._slow},
            "/banner": {"GET": self._banner},
            "/api/items": {"GET": self._list_items, "POST": self._add_item},
            ITEM_ROUTE: {"GET": self._get_item},
        }

    def _register_gauges(self) -> None:
        self._in_flight = self.metrics.register(
            metrics.Gauge(
                "http_requests_in_flight",
                "Requests being served right now, by route.",
                ("path",),
            )
        )
        self.metrics.register(
            metrics.CallbackGauge(
                "process_start_time_seconds",
                "Start time of the process since the Unix epoch, in seconds.",
                lambda: self.started_at,
            )
        )
        self.metrics.register(
            metrics.CallbackGauge(
                "webapp_build_info",
                "Always 1; the version label tells which release this process runs.",
                lambda: 1,
                labels={"version": self.settings.version},
            )
        )

    def route_of(self, path: str) -> str:
        """The route a path belongs to, as metrics label it: a bounded set, whatever is asked."""
        if path in self._routes:
            return path
        if _ITEM_PATH.fullmatch(path):
            return ITEM_ROUTE
        return OTHER_ROUTE

    def handle(self, request: Request) -> Response:
        """Answer one request. Exceptions other than the ones answered here are bugs."""
        route = self.route_of(request.path)
        methods = self._routes.get(route)
        if methods is None:
            return error_response(404, f"no such path: {request.path[:200]}")
        endpoint = methods.get("GET" if request.method == "HEAD" else request.method)
        if endpoint is None:
            allowed = ", ".join(sorted({*methods, "HEAD"} if "GET" in methods else methods))
            return error_response(
                405,
                f"method {request.method} is not allowed on {route}; allowed: {allowed}",
                (("Allow", allowed),),
            )
        if route not in PROBE_ROUTES:
            delay = self.faults.delay_seconds()
            if delay > 0:
                time.sleep(delay)
            if self.faults.should_fail():
                return error_response(500, "injected failure (WEBAPP_ERROR_RATE)")
        return endpoint(request)

    def request_started(self, path: str) -> None:
        """Count a request in flight, before reading its body (the drain waits for it)."""
        self.lifecycle.request_started()
        self._in_flight.inc((self.route_of(path),))

    def record(self, method: str, path: str, status: int, seconds: float) -> None:
        """Count a response in the totals: done before sending it, so that a client that has
        its response also finds it counted."""
        route = self.route_of(path)
        method_label = method if method in KNOWN_METHODS else "other"
        self._requests.inc((method_label, route, str(status)))
        self._durations.observe(seconds, (method_label, route))

    def request_finished(self, path: str) -> None:
        """Count a request out of flight, once its response is sent (or could not be)."""
        self._in_flight.dec((self.route_of(path),))
        self.lifecycle.request_finished()

    def _index(self, request: Request) -> Response:
        names = {
            "app": "webapp",
            "version": self.settings.version,
            "instance": self.settings.instance,
        }
        if "text/html" not in request.accept:
            return json_response(200, {**names, "endpoints": sorted(self._routes)})
        version = html.escape(self.settings.version)
        instance = html.escape(self.settings.instance)
        page = (
            "<!doctype html>\n<html><head><meta charset=utf-8><title>webapp</title></head>\n"
            f"<body><h1>webapp {version}</h1><p>Served by instance <code>{instance}</code>.</p>\n"
            '<p><a href="/healthz">/healthz</a> · <a href="/version">/version</a> · '
            '<a href="/api/items">/api/items</a> · <a href="/metrics">/metrics</a></p>\n'
            "</body></html>\n"
        )
        return Response(200, page.encode("utf-8"), HTML)

    def _banner(self, request: Request) -> Response:
        """The banner text: a feature flag evaluated over OFREP for ``?user=``."""
        query = urllib.parse.parse_qs(request.query)
        user = (query.get("user") or [None])[0]
        return json_response(200, flags.evaluate_string(self.settings, "Welcome!", user))

    def _healthz(self, request: Request) -> Response:
        health = self.lifecycle.health()
        document = {"status": health, "version": self.settings.version}
        return json_response(200 if health == "ok" else 503, document)

    def _readyz(self, request: Request) -> Response:
        readiness = self.lifecycle.readiness()
        document = {"status": readiness, "version": self.settings.version}
        return json_response(200 if readiness == "ready" else 503, document)

    def _version(self, request: Request) -> Response:
        document = {
            "version": self.settings.version,
            "instance": self.settings.instance,
            "python": platform.python_version(),
        }
        return json_response(200, document)

    def _metrics(self, request: Request) -> Response:
        return Response(200, self.metrics.render().encode("utf-8"), metrics.CONTENT_TYPE)

    def _slow(self, request: Request) -> Response:
        values = urllib.parse.parse_qs(request.query).get("ms", ["0"])
        text = values[-1]
        if not (text.isascii() and text.isdigit()) or int(text) > MAX_SLOW_MS:
            return error_response(400, f"query 'ms' must be a whole number from 0 to {MAX_SLOW_MS}")
        time.sleep(int(text) / 1000)
        return json_response(200, {"slept_ms": int(text)})

    def _list_items(self, request: Request) -> Response:
        return json_response(200, {"items": [item.to_json() for item in self.items.all()]})

    def _add_item(self, request: Request) -> Response:
        try:
            item = self.items.add(items.parse_new_item(request.body))
        except items.InvalidItem as exc:
            return error_response(400, str(exc))
        except items.StoreFull as exc:
            return error_response(507, str(exc))
        return json_response(201, item.to_json(), (("Location", f"/api/items/{item.id}"),))

    def _get_item(self, request: Request) -> Response:
        match = _ITEM_PATH.fullmatch(request.path)
        item = self.items.get(int(match.group(1))) if match else None
        if item is None:
            return error_response(404, f"no item at {request.path}")
        return json_response(200, item.to_json())
