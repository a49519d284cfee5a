"""Runs the real app in a subprocess on a free port, and talks to it over real HTTP.

Every wait here is bounded: a test that cannot start or stop the app fails within seconds and
never hangs. The app runs from the example's root directory, whatever directory the tests are
started from; the tests that also import ``webapp`` in-process expect to be run from there
(``python -m unittest discover -s tests``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import json
import os
import re
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

APP_DIR = Path(__file__).resolve().parent.parent

START_TIMEOUT = 15.0
EXIT_TIMEOUT = 10.0
REQUEST_TIMEOUT = 5.0
_ANNOUNCEMENT = re.compile(r"listening on http://(?P<host>[^\s:]+):(?P<port>[0-9]+)")
# Variables the app reads: tests start from none of them, whatever the calling shell has set.
_APP_VARIABLES = ("PORT", "HOST")


def app_environment(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a child app: this one without the app's knobs, plus ``overrides``."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("WEBAPP_") and name not in _APP_VARIABLES
    }
    environment.update(overrides or {})
    return environment


@dataclasses.dataclass(frozen=True)
class Reply:
    """A complete HTTP response."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


def read_reply(connection: http.client.HTTPConnection) -> Reply:
    """Read the next response on a connection, body included."""
    response = connection.getresponse()
    return Reply(response.status, response.headers, response.read())


@dataclasses.dataclass(frozen=True)
class Exited:
    """How a process that was expected to stop on its own ended."""

    returncode: int
    stdout: str
    stderr: str


def run_to_exit(
    env: Mapping[str, str] | None = None, args: Sequence[str] = ("--port", "0")
) -> Exited:
    """Run the app expecting it to exit by itself (bad knobs, crash on start) within seconds."""
    return run_all_to_exit([env or {}], args)[0]


def run_all_to_exit(
    envs: Sequence[Mapping[str, str]], args: Sequence[str] = ("--port", "0")
) -> list[Exited]:
    """Run one app per environment, all at once, each expected to exit within seconds."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "webapp", *args],
            cwd=APP_DIR,
            env=app_environment(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for env in envs
    ]
    # Many interpreters starting at once on a busy machine: one generous bound for them all.
    deadline = time.monotonic() + EXIT_TIMEOUT + 2 * len(processes)
    results = []
    try:
        for process in processes:
            remaining = max(0.1, deadline - time.monotonic())
            stdout, stderr = process.communicate(timeout=remaining)
            results.append(Exited(process.returncode, stdout, stderr))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()
    return results


class ServerProcess:
    """One app process: started on a free port, stopped (or killed) when the test is done."""

    def __init__(
        self, env: Mapping[str, str] | None = None, args: Sequence[str] = ("--port", "0")
    ) -> None:
        self._env = app_environment(env)
        self._args = list(args)
        # Lives as long as this object: close() releases it.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        self.process: subprocess.Popen[bytes] | None = None
        self.host = ""
        self.port = 0

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> ServerProcess:
        """Start the process and wait for its "listening on" line."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "webapp", *self._args],
            cwd=APP_DIR,
            env=self._env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        line = self._read_stdout_line(START_TIMEOUT)
        match = _ANNOUNCEMENT.search(line)
        if match is None:
            log = self.log()
            self.close()
            raise AssertionError(f"webapp did not start; stdout {line!r}; log:\n{log}")
        self.host, self.port = match["host"], int(match["port"])
        return self

    def _read_stdout_line(self, timeout: float) -> str:
        assert self.process is not None and self.process.stdout is not None
        pipe = self.process.stdout
        deadline = time.monotonic() + timeout
        data = b""
        with selectors.DefaultSelector() as selector:
            selector.register(pipe, selectors.EVENT_READ)
            while not data.endswith(b"\n"):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    break
                chunk = os.read(pipe.fileno(), 4096)
                if not chunk:
                    break
                data += chunk
        return data.decode("utf-8", "replace")

    @property
    def pid(self) -> int:
        """The process id."""
        assert self.process is not None
        return self.process.pid

    def connection(self, timeout: float = REQUEST_TIMEOUT) -> http.client.HTTPConnection:
        """A new keep-alive connection to the app (the caller closes it)."""
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = REQUEST_TIMEOUT,
    ) -> Reply:
        """One request on its own connection."""
        with contextlib.closing(self.connection(timeout)) as connection:
            connection.request(method, path, body=body, headers=dict(headers or {}))
            return read_reply(connection)

    def get(self, path: str, **kwargs: Any) -> Reply:
        """GET ``path`` on its own connection."""
        return self.request("GET", path, **kwargs)

    def send_signal(self, signum: int) -> None:
        """Send a signal to the app."""
        assert self.process is not None
        self.process.send_signal(signum)

    def wait(self, timeout: float = EXIT_TIMEOUT) -> int:
        """Wait for the process to exit by itself; its exit status. Fails the test on timeout."""
        assert self.process is not None
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            log = self.log()
            self.close()
            raise AssertionError(f"webapp did not exit within {timeout}s; log:\n{log}") from None

    def stop(self, timeout: float = EXIT_TIMEOUT) -> int:
        """SIGTERM, then wait for the exit status."""
        self.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    def log(self) -> str:
        """Everything the app wrote to standard error so far."""
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def log_lines(self) -> list[str]:
        """The log, line by line."""
        return self.log().splitlines()

    def close(self) -> None:
        """Kill the process if it still runs and release its files; safe to call twice."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(EXIT_TIMEOUT)
            if self.process.stdout is not None:
                self.process.stdout.close()
        self._stderr.close()


def wait_until(condition: Any, timeout: float = 5.0, interval: float = 0.02) -> Any:
    """Poll ``condition()`` until it returns something true; that value. Fails on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)
