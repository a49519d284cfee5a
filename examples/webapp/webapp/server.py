"""HTTP/1.1 transport for the application, and the life of the process: listen, serve, drain.

The standard library's ThreadingHTTPServer with a handler that keeps connections alive correctly
(every response carries a Content-Length; every request body is read, whole or chunked, before
answering), writes one access-log line per request to standard error, and on SIGTERM or SIGINT
stops accepting, lets the requests in flight finish (for at most WEBAPP_DRAIN_SECONDS) and returns.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import socketserver
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from webapp import __version__, app, settings

MAX_BODY_BYTES = 64 * 1024
MAX_DISCARD_BYTES = 1024 * 1024
MAX_LINE_BYTES = 8 * 1024
MAX_TRAILER_LINES = 64
IDLE_TIMEOUT_SECONDS = 60
# How often the accept loop checks whether it was asked to stop: bounds the stop latency.
ACCEPT_POLL_SECONDS = 0.05
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,8}")


def log(message: str) -> None:
    """Write one timestamped line to standard error (line-buffered, so lines never interleave)."""
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
    sys.stderr.write(f"{stamp}.{int(now % 1 * 1000):03d}Z {message}\n")


class BadRequestBody(Exception):
    """A request body that cannot be read; answered with ``status`` and the connection closed."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def split_target(target: str) -> tuple[str, str]:
    """Path and query of a request target, in origin form (/a?b) or absolute form (http://h/a)."""
    if not target.startswith("/"):
        parts = urllib.parse.urlsplit(target)
        return parts.path or "/", parts.query
    path, _, query = target.partition("?")
    return path, query.partition("#")[0]


class WebappServer(ThreadingHTTPServer):
    """A thread per connection; draining is done by ``drain``, so closing never blocks."""

    daemon_threads = True
    block_on_close = False
    # Room for bursts of new connections from a load generator or a router.
    request_queue_size = 512

    def __init__(self, application: app.Application) -> None:
        self.application = application
        config = application.settings
        if ":" in config.host:
            self.address_family = socket.AF_INET6
        super().__init__((config.host, config.port), RequestHandler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS look-up, which can stall for seconds offline."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    @property
    def url(self) -> str:
        """The base URL the server answers on, with the port actually bound."""
        host = self.server_name
        return (
            f"http://[{host}]:{self.server_port}"
            if ":" in host
            else f"http://{host}:{self.server_port}"
        )

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log an error escaping a connection: one line for a client gone, a traceback for a bug."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            return
        log(f"error on connection from {client_address[0]}:\n{traceback.format_exc().rstrip()}")


class RequestHandler(BaseHTTPRequestHandler):
    """Reads a request, asks the application for the response and writes it."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    # An idle keep-alive connection is closed after this long.
    timeout = IDLE_TIMEOUT_SECONDS
    server: WebappServer

    def _serve(self) -> None:
        application = self.server.application
        started = time.perf_counter()
        path, _ = split_target(self.path)
        application.request_started(path)
        status, elapsed = 500, 0.0
        try:
            response = self._respond(application)
            status, elapsed = response.status, time.perf_counter() - started
            application.record(self.command, path, status, elapsed)
            self._send(response)
        finally:
            # Logged before counting the request out, so a drain never exits ahead of its line.
            self._log_access(status, elapsed)
            application.request_finished(path)
        if application.faults.is_last_request():
            self._crash()

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _serve

    def _respond(self, application: app.Application) -> app.Response:
        try:
            body = self._read_body()
        except BadRequestBody as exc:
            self.close_connection = True
            return app.error_response(exc.status, exc.message)
        except OSError:
            # The client stopped sending (or went away) in the middle of its body.
            self.close_connection = True
            return app.error_response(400, "the request body could not be read")
        path, query = split_target(self.path)
        request = app.Request(self.command, path, query, body, self.headers.get("Accept", ""))
        try:
            return application.handle(request)
        except Exception:
            log(f"error answering {self.command} {path}:\n{traceback.format_exc().rstrip()}")
            return app.error_response(500, "internal error; the server log has the details")

    def _read_body(self) -> bytes:
        lengths = self.headers.get_all("Content-Length") or []
        encoding = self.headers.get("Transfer-Encoding")
        if encoding is not None:
            if lengths:
                raise BadRequestBody(400, "send Content-Length or Transfer-Encoding, not both")
            if encoding.strip().lower() != "chunked":
                raise BadRequestBody(501, f"unsupported Transfer-Encoding: {encoding[:50]}")
            return self._read_chunked()
        if not lengths:
            return b""
        if len(set(lengths)) > 1 or not (lengths[0].isascii() and lengths[0].isdigit()):
            raise BadRequestBody(400, "invalid Content-Length")
        length = int(lengths[0])
        if length > MAX_BODY_BYTES:
            self._discard(length)
            raise BadRequestBody(413, f"request body over {MAX_BODY_BYTES} bytes")
        return self._read_exactly(length)

    def _discard(self, length: int) -> None:
        """Read a refused body (when not huge), so that closing does not reset the connection
        before the client has read the answer."""
        if length > MAX_DISCARD_BYTES:
            return
        while length > 0:
            data = self.rfile.read(min(length, MAX_BODY_BYTES))
            if not data:
                return
            length -= len(data)

    def _read_exactly(self, length: int) -> bytes:
        data = self.rfile.read(length)
        if len(data) < length:
            raise BadRequestBody(400, "request body ended early")
        return data

    def _read_line(self) -> bytes:
        line = self.rfile.readline(MAX_LINE_BYTES + 1)
        if len(line) > MAX_LINE_BYTES or not line.endswith(b"\n"):
            raise BadRequestBody(400, "malformed chunked body")
        return line

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            size_text = self._read_line().split(b";", 1)[0].strip()
            if not _CHUNK_SIZE.fullmatch(size_text):
                raise BadRequestBody(400, "malformed chunk size")
            size = int(size_text, 16)
            if size == 0:
                break
            total += size
            if total > MAX_BODY_BYTES:
                raise BadRequestBody(413, f"request body over {MAX_BODY_BYTES} bytes")
            chunks.append(self._read_exactly(size))
            if self._read_line().strip():
                raise BadRequestBody(400, "chunk longer than its size")
        for _ in range(MAX_TRAILER_LINES):
            if not self._read_line().strip():
                return b"".join(chunks)
        raise BadRequestBody(400, "too many trailer lines")

    def _send(self, response: app.Response) -> None:
        config = self.server.application.settings
        if self.server.application.lifecycle.draining:
            self.close_connection = True
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.send_header("X-Webapp-Version", config.version)
            self.send_header("X-Webapp-Instance", config.instance)
            for name, value in response.headers:
                self.send_header(name, value)
            self._send_connection_header()
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
        except OSError:
            # The client went away; there is nobody left to answer.
            self.close_connection = True

    def _send_connection_header(self) -> None:
        if self.close_connection:
            self.send_header("Connection", "close")
        elif self.request_version == "HTTP/1.0":
            self.send_header("Connection", "keep-alive")

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Answer in JSON a request that http.server itself refused (bad request line, 501...)."""
        self.close_connection = True
        # A request line too broken to name its version would otherwise get a bare body.
        self.request_version = self.protocol_version
        text = message or self.responses.get(code, ("error",))[0]
        self._send(app.error_response(code, text))
        self._log_access(code, 0.0)

    def version_string(self) -> str:
        """The Server header: the app and its package version, not the Python build."""
        return f"webapp/{__version__}"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Silenced: ``_log_access`` writes the access log, with the duration."""

    def log_message(self, format: str, *args: Any) -> None:
        """Messages from http.server itself (timeouts, refused requests), in our log format."""
        log(f"{self.client_address[0]} {format % args}")

    def _log_access(self, status: int, seconds: float) -> None:
        if not self.server.application.settings.access_log:
            return
        target = getattr(self, "path", "-")
        if not target.isprintable():
            target = repr(target)
        method = self.command or "-"
        log(f"{self.client_address[0]} {method} {target} {status} {seconds * 1000:.1f}ms")

    def _crash(self) -> None:
        crash_after = self.server.application.settings.faults.crash_after
        log(f"answered {crash_after} requests: WEBAPP_CRASH_AFTER reached, exiting with status 1")
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_WR)
        sys.stderr.flush()
        os._exit(1)


# Block these in the main thread before any other thread starts: threads inherit the mask, so the
# kernel keeps the signals pending for sigwait() in the main thread, whichever thread it picks. A
# Python signal handler would only run when the main thread next executes bytecode, and a main
# thread blocked waiting on a lock may never do so if the signal lands on another thread.
STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT})


def run(config: settings.Settings) -> int:
    """Serve until SIGTERM or SIGINT, then drain; the exit status (0, or 1 if it cannot listen)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    application = app.Application(config)
    try:
        httpd = WebappServer(application)
    except OSError as exc:
        log(f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}")
        return 1
    print(
        f"webapp {config.version} listening on {httpd.url} (instance {config.instance})",
        flush=True,
    )
    threading.Thread(
        target=httpd.serve_forever, args=(ACCEPT_POLL_SECONDS,), name="accept", daemon=True
    ).start()
    received = signal.sigwait(STOP_SIGNALS)
    log(f"{signal.Signals(received).name} received: draining")
    return drain(httpd, application, config.drain_seconds)


def drain(httpd: WebappServer, application: app.Application, seconds: float) -> int:
    """Stop accepting, then wait (at most ``seconds``) for the requests in flight; exit status 0."""
    lifecycle = application.lifecycle
    lifecycle.start_draining()
    httpd.shutdown()
    httpd.server_close()
    in_flight = lifecycle.in_flight
    if in_flight:
        log(f"waiting up to {seconds:g}s for {in_flight} request(s) in flight")
    if lifecycle.wait_idle(seconds):
        log("stopped cleanly")
    else:
        log(f"drain timed out after {seconds:g}s with {lifecycle.in_flight} request(s) in flight")
    return 0
