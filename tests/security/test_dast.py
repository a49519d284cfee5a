"""The DAST baseline against real servers: the example app, and a deliberately weak one."""

from __future__ import annotations

import http.server
import json
import os
import re
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard.security import interface
from shipyard.security.scanners import dast
from tests.conftest import REPO_ROOT
from tests.security.test_scan_command import validate_sarif

WEBAPP = REPO_ROOT / "examples" / "webapp"


@pytest.fixture
def webapp() -> Iterator[str]:
    """The example app, started on a free port; its URL."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("WEBAPP_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "webapp", "--port", "0"], cwd=WEBAPP, env=environment,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        assert found, line
        yield found.group(1)
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


class WeakApp(http.server.BaseHTTPRequestHandler):
    """Everything the baseline looks for, done wrong on purpose."""

    requests: list[tuple[str, str]]

    def _answer(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
        data = body.encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self) -> None:
        self.requests.append((self.command, self.path))
        path, _, query = self.path.partition("?")
        parameters = urllib.parse.parse_qs(query)
        if "next" in parameters:
            self._answer(302, "", {"Location": parameters["next"][0]})
        elif path == "/":
            self._answer(200, "<h1>weak</h1>", {"Set-Cookie": "session=abc123; Path=/",
                                                "X-Powered-By": "PHP/5.4.1"})  # fmt: skip
        elif path == "/.git/HEAD":
            self._answer(200, "ref: refs/heads/main\n")
        elif path == "/.env":
            self._answer(200, "SECRET_KEY=weak\nDEBUG=1\n")
        elif path == "/static/":
            self._answer(200, "<title>Directory listing for /static/</title><a href=x>x</a>")
        elif "%ff" in path or "'" in urllib.parse.unquote(query):
            self._answer(500, 'Traceback (most recent call last):\n  File "app.py", line 3\n')
        else:
            self._answer(404, "not found")

    def do_TRACE(self) -> None:
        self.requests.append((self.command, self.path))
        self._answer(
            200, f"TRACE {self.path} HTTP/1.1\r\nHost: x\r\n", {"Content-Type": "message/http"}
        )

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def weak_app() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    seen: list[tuple[str, str]] = []
    handler = type("Handler", (WeakApp,), {"requests": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def _scan(url: str, tmp_path: Path, **limits: int) -> interface.ScanResult:
    context = interface.ScanContext(root=tmp_path, dast_url=url, **limits)  # type: ignore[arg-type]
    return dast.DastScanner().scan(context)


def test_the_example_app_has_only_low_findings(webapp: str, tmp_path: Path) -> None:
    result = _scan(webapp, tmp_path)
    rules = sorted({finding.rule_id for finding in result.findings})
    assert rules == ["dast/missing-security-header", "dast/version-banner"]
    assert {finding.severity.label for finding in result.findings} == {"low"}


def test_the_weak_app_is_flagged_for_everything(
    weak_app: tuple[str, list[tuple[str, str]]], tmp_path: Path
) -> None:
    url, seen = weak_app
    result = _scan(url, tmp_path)
    found = {(f.rule_id, f.location.path.removeprefix(url)) for f in result.findings}
    assert found >= {
        ("dast/exposed-git", "/.git/HEAD"),
        ("dast/exposed-env", "/.env"),
        ("dast/directory-listing", "/static/"),
        ("dast/open-redirect", "/"),
        ("dast/trace-enabled", "/"),
        ("dast/cookie-flags", "/"),
        ("dast/version-banner", "/"),
        ("dast/missing-security-header", "/"),
    }
    assert any(rule == "dast/stack-trace" for rule, _ in found)
    messages = {f.message for f in result.findings}
    assert "cookie `session` lacks httponly, samesite" in messages
    assert "`x-powered-by: PHP/5.4.1` names its version" in messages
    assert len(seen) <= 60 and len(seen) == int(result.notices[-1].message.split()[0])
    assert all(path.startswith("/") for _, path in seen)


def test_requests_and_time_are_bounded(
    weak_app: tuple[str, list[tuple[str, str]]], tmp_path: Path
) -> None:
    url, seen = weak_app
    result = _scan(url, tmp_path, dast_max_requests=4)
    assert len(seen) == 4
    assert any("budget spent" in notice.message for notice in result.notices)


def test_an_app_that_does_not_answer_fails_the_scanner(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(
        interface.ScanError, match=f"the app at http://127.0.0.1:{port} did not answer"
    ):
        _scan(f"http://127.0.0.1:{port}/", tmp_path)


def test_the_cli_reports_the_weak_app_in_valid_sarif(
    weak_app: tuple[str, list[tuple[str, str]]], tmp_path: Path
) -> None:
    url, _ = weak_app
    report = tmp_path / "dast.sarif"
    done = subprocess.run(
        [sys.executable, "-m", "shipyard", "scan", str(tmp_path), "--scanner", "dast", "--dast",
         url, "-o", str(report)], capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "SHIPYARD_HOME": str(tmp_path / "home")},
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    document = json.loads(report.read_text(encoding="utf-8"))
    validate_sarif(document)
    (run,) = document["runs"]
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]
    }
    assert f"{url}/.git/HEAD" in uris
