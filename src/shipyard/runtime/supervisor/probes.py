"""Readiness and liveness checks against one instance: HTTP GET, TCP connect, or a command.

Each check answers pass or fail with a short reason, within the probe's timeout; it never raises.
HTTP is spoken directly over a loopback socket (one GET with ``Connection: close``): a check must
stay cheap when dozens of instances are probed every second.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping
from pathlib import Path

from shipyard.core.frozen import frozen
from shipyard.spec import project

HOST = "127.0.0.1"


@frozen
class Outcome:
    passed: bool
    reason: str = ""


async def check(probe: project.Probe, *, port: int, cwd: Path, env: Mapping[str, str]) -> Outcome:
    """Run one check of ``probe`` against the instance on ``port``."""
    try:
        async with asyncio.timeout(probe.timeout):
            if probe.kind == "http":
                return await _http(port, probe.target)
            if probe.kind == "tcp":
                return await _tcp(port)
            return await _command(probe.target, cwd, env)
    except TimeoutError:
        return Outcome(False, f"no answer within {probe.timeout:g} s")


async def _http(port: int, path: str) -> Outcome:
    try:
        reader, writer = await asyncio.open_connection(HOST, port)
    except OSError as error:
        return Outcome(False, f"cannot connect to port {port}: {error.strerror or error}")
    try:
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nUser-Agent: shipyard-probe\r\n"
            "Connection: close\r\n\r\n"
        )
        writer.write(request.encode("latin-1"))
        await writer.drain()
        status_line = await reader.readline()
    except OSError as error:
        return Outcome(False, f"GET {path} failed: {error.strerror or error}")
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    parts = status_line.decode("latin-1", "replace").split()
    if len(parts) < 2 or not parts[1].isdigit():
        return Outcome(False, f"GET {path}: not an HTTP answer")
    status = int(parts[1])
    if 200 <= status < 400:
        return Outcome(True)
    return Outcome(False, f"GET {path} answered {status}")


async def _tcp(port: int) -> Outcome:
    try:
        _, writer = await asyncio.open_connection(HOST, port)
    except OSError as error:
        return Outcome(False, f"cannot connect to port {port}: {error.strerror or error}")
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return Outcome(True)


async def _command(command: str, cwd: Path, env: Mapping[str, str]) -> Outcome:
    try:
        process = await asyncio.create_subprocess_exec(
            "/bin/sh",
            "-c",
            command,
            cwd=cwd,
            env=dict(env),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as error:
        return Outcome(False, f"cannot run the check: {error.strerror or error}")
    try:
        _, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
    if process.returncode == 0:
        return Outcome(True)
    said = stderr.decode("utf-8", "replace").strip().splitlines()
    detail = f": {said[-1][:200]}" if said else ""
    return Outcome(False, f"the check exited with status {process.returncode}{detail}")
