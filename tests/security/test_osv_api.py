"""The OSV web API as the advisory source: a loopback server that answers as OSV does."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shipyard.security import interface, osv_db
from shipyard.security.scanners import dependencies
from tests.conftest import CORPUS

AIOHTTP = CORPUS / "osv-pypi" / "vulns" / "aiohttp"


@pytest.fixture
def osv_api() -> Iterator[tuple[str, list[Any]]]:
    """``/v1/querybatch`` and ``/v1/vulns/{id}`` over the aiohttp advisories of the corpus."""
    records = {r["id"]: r for r in osv_db.load(AIOHTTP).advisories("PyPI", "aiohttp")}
    asked: list[Any] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def _send(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            queries = json.loads(self.rfile.read(length))["queries"]
            asked.append(queries)
            results = [
                {"vulns": [{"id": i} for i in records]}
                if q["package"] == {"ecosystem": "PyPI", "name": "aiohttp"} else {}
                for q in queries
            ]  # fmt: skip
            self._send(200, {"results": results})

        def do_GET(self) -> None:
            advisory = records.get(self.path.rsplit("/", 1)[-1])
            self._send(200 if advisory else 404, advisory or {"code": 5})

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", asked
    finally:
        server.shutdown()
        server.server_close()


def test_the_api_answers_like_the_database(tmp_path: Path, osv_api: tuple[str, list[Any]]) -> None:
    url, asked = osv_api
    (tmp_path / "requirements.txt").write_text("aiohttp==3.7.3\nflask==2.0.0\nx>=1\n")
    context = interface.ScanContext(root=tmp_path, osv_api=url)
    result = dependencies.DependencyScanner().scan(context)
    assert asked == [[
        {"package": {"ecosystem": "PyPI", "name": "aiohttp"}, "version": "3.7.3"},
        {"package": {"ecosystem": "PyPI", "name": "flask"}, "version": "2.0.0"},
    ]]  # fmt: skip
    offline = dependencies.DependencyScanner().scan(
        interface.ScanContext(root=tmp_path, osv_db=AIOHTTP)
    )
    assert sorted(f.rule_id for f in result.findings) == sorted(f.rule_id for f in offline.findings)
    assert "PYSEC-2021-76" in {f.rule_id for f in result.findings}


def test_an_api_that_cannot_be_asked_fails_the_scanner(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "requirements.txt").write_text("aiohttp==3.7.3\n")
    context = interface.ScanContext(root=tmp_path, osv_api=f"http://127.0.0.1:{port}")
    with pytest.raises(interface.ScanError, match="could not be asked"):
        dependencies.DependencyScanner().scan(context)
