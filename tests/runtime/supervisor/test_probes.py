"""Readiness and liveness checks against real sockets and real commands."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from shipyard.runtime.supervisor import probes
from shipyard.spec import project


async def _answer(status: int) -> tuple[asyncio.Server, int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n".encode())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def check(probe: project.Probe, *, status: int | None = 200, cwd: Path = Path("/")) -> str:
    async def scenario() -> probes.Outcome:
        if status is None:
            server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            server.close()
            await server.wait_closed()
        else:
            server, port = await _answer(status)
        try:
            return await probes.check(probe, port=port, cwd=cwd, env={"WHO": "probe"})
        finally:
            server.close()

    outcome = asyncio.run(scenario())
    return "pass" if outcome.passed else outcome.reason


@pytest.mark.parametrize(("status", "expected"), [(200, "pass"), (302, "pass"), (503, None)])
def test_http(status: int, expected: str | None) -> None:
    result = check(project.Probe(kind="http", target="/readyz"), status=status)
    assert result == (expected or f"GET /readyz answered {status}")


def test_http_and_tcp_on_a_closed_port() -> None:
    assert check(project.Probe(kind="http", target="/"), status=None).startswith(
        "cannot connect to port "
    )
    assert check(project.Probe(kind="tcp"), status=None).startswith("cannot connect to port ")
    assert check(project.Probe(kind="tcp")) == "pass"


def test_commands_run_in_the_release_directory_with_the_instance_environment(
    tmp_path: Path,
) -> None:
    (tmp_path / "ready").write_text("")
    command = 'test -f ready && test "$WHO" = probe'
    assert check(project.Probe(kind="command", target=command), cwd=tmp_path) == "pass"
    failing = project.Probe(kind="command", target="echo not yet >&2; exit 3")
    assert check(failing) == "the check exited with status 3: not yet"
    slow = project.Probe(kind="command", target="sleep 5", timeout=0.2)
    assert check(slow) == "no answer within 0.2 s"
