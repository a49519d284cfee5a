"""The command line's side of the server: find it, start it in the background, call its API.

Commands that manage environments need the server. When ``server.json`` names no running server,
``connect`` starts one (``python -m shipyard.server`` in its own session, its output appended to
``$SHIPYARD_HOME/server.log``) and waits until it answers. API refusals become ``ApiError`` with
the server's message and hint; httpx's own errors never reach the person.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

from shipyard.core import errors
from shipyard.store import paths, serverinfo

START_TIMEOUT = 60.0
STOP_TIMEOUT = 90.0
REQUEST_TIMEOUT = httpx.Timeout(30.0, read=30 * 60.0)


class ApiError(errors.ShipyardError):
    """The server refused a request, or could not be reached."""

    def __init__(self, message: str, *, status: int = 0, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.exit_code = 2 if 400 <= status < 500 and status not in (409,) else 1


class Client:
    """Calls to one running server."""

    def __init__(self, info: serverinfo.ServerInfo) -> None:
        self.info = info
        self._http = httpx.Client(
            base_url=info.url,
            headers={"Authorization": f"Bearer {info.token}"},
            timeout=REQUEST_TIMEOUT,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            answer = self._http.request(method, path, json=body, params=params)
        except httpx.HTTPError as error:
            raise _unreachable(self.info, error) from None
        if answer.status_code >= 400:
            raise _refusal(answer)
        return answer.json()

    def lines(self, path: str, *, params: Mapping[str, Any]) -> Iterator[str]:
        """A streamed text answer, line by line."""
        try:
            with self._http.stream("GET", path, params=params) as answer:
                if answer.status_code >= 400:
                    answer.read()
                    raise _refusal(answer)
                yield from answer.iter_lines()
        except httpx.HTTPError as error:
            raise _unreachable(self.info, error) from None


def _unreachable(info: serverinfo.ServerInfo, error: httpx.HTTPError) -> ApiError:
    return ApiError(
        f"cannot reach the server at {info.url}: {error}",
        hint="check it with `shipyard server status`",
    )


def _refusal(answer: httpx.Response) -> ApiError:
    try:
        detail = answer.json()["error"]
        return ApiError(str(detail["message"]), status=answer.status_code, hint=detail.get("hint"))
    except (ValueError, KeyError, TypeError):
        return ApiError(f"the server answered {answer.status_code}", status=answer.status_code)


def connect(home: Path | None = None) -> Client:
    """A client of this home's server, started in the background when none runs."""
    home = home or paths.home()
    info = serverinfo.read(home)
    if info is None:
        info = start_background(home)
    return Client(info)


def start_background(home: Path, port: int | None = None) -> serverinfo.ServerInfo:
    """Start a server in its own session; return once it answers."""
    serverinfo.router_settings()  # a malformed setting is reported here, not in the server's log
    home.mkdir(parents=True, exist_ok=True)
    log_path = paths.server_log(home)
    with log_path.open("ab") as log:
        offset = log.tell()
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "shipyard.server",
                "--port",
                str(serverinfo.default_port() if port is None else port),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, paths.HOME_VARIABLE: str(home)},
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        status = process.poll()
        if status is not None:
            said = _log_since(log_path, offset)
            raise ApiError(
                f"the server did not start (exit status {status})"
                + (f": {said[-1]}" if said else ""),
                hint=f"its log is {log_path}",
            )
        info = serverinfo.read(home)
        if info is not None and info.pid == process.pid:
            with Client(info) as client:
                try:
                    client.call("GET", "/api/v1/status")
                except ApiError:
                    pass
                else:
                    return info
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGTERM)
    raise ApiError(
        f"the server did not answer within {START_TIMEOUT:g} s", hint=f"its log is {log_path}"
    )


def stop_server(home: Path) -> serverinfo.ServerInfo | None:
    """Stop this home's server (it stops its instances and router first); None if none ran."""
    info = serverinfo.read(home)
    if info is None:
        return None
    try:
        os.kill(info.pid, signal.SIGTERM)
    except ProcessLookupError:
        return info
    deadline = time.monotonic() + STOP_TIMEOUT
    while serverinfo.is_server_process(info.pid):
        if time.monotonic() >= deadline:
            raise ApiError(
                f"the server (pid {info.pid}) did not stop within {STOP_TIMEOUT:g} s",
                hint=f"its log is {paths.server_log(home)}",
            )
        time.sleep(0.05)
    return info


def _log_since(path: Path, offset: int) -> list[str]:
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if line.strip()]
