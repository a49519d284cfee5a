"""A small synchronous client of the router's control socket, for the server.

    client = RouterClient("/run/shipyard/router.sock")
    client.wait_ready(timeout=10)
    client.apply_routes(table)
    client.set_instance_state("127.0.0.1:9001", InstanceState.DRAINING)
    signals = client.stats().signals

One connection, opened on first use and reused; each call sends one line and reads one. Not safe
to share between threads (give each thread its own client).
"""

from __future__ import annotations

import os
import socket
import sys
import time
from typing import TypeVar

from shipyard.runtime.router import errors, protocol, routes

_R = TypeVar("_R")


def command(
    control: str | os.PathLike[str],
    *,
    workers: int = 1,
    pin_workers: bool = False,
    reuse_port: bool = False,
    python: str = sys.executable,
) -> list[str]:
    """The argv that starts a router (start it in its own session, stdout/stderr to a log).

    ``pin_workers`` pins worker i to the i-th CPU the router may use: fewer migrations and
    warmer caches, worth it when the router has cores mostly to itself. ``reuse_port`` gives
    each worker its own SO_REUSEPORT socket per port instead of one accept queue they share.
    """
    argv = [
        python,
        "-m",
        "shipyard.runtime.router",
        "--control",
        os.fspath(control),
        "--workers",
        str(workers),
    ]
    if pin_workers:
        argv.append("--pin-workers")
    if reuse_port:
        argv.append("--reuse-port")
    return argv


class RouterClient:
    """Sends control messages to the router listening on ``path``."""

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        self.path = os.fspath(path)
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._buffer = b""

    # Messages ----------------------------------------------------------------------------

    def ping(self) -> protocol.Pong:
        """The router's pid, running table version (0 before any) and worker count."""
        return self._call(protocol.Ping(), protocol.Pong)

    def apply_routes(self, table: routes.RouteTable) -> protocol.Applied:
        """Replace the whole route table (its version must be newer than the running one)."""
        return self._call(protocol.ApplyRoutes(table), protocol.Applied)

    def set_instance_state(
        self, address: str, state: routes.InstanceState | str
    ) -> protocol.InstanceStateSet:
        """Mark the instance at ``address`` ``ready``, ``not_ready`` or ``draining``."""
        try:
            value = routes.InstanceState(state)
        except ValueError:
            allowed = ", ".join(s.value for s in routes.InstanceState)
            raise errors.ProtocolError(
                f"{state!r} is not one of: {allowed}", key_path="state"
            ) from None
        return self._call(protocol.SetInstanceState(address, value), protocol.InstanceStateSet)

    def stats(self) -> protocol.Stats:
        """Golden signals per environment, release and instance, summed over the workers."""
        return self._call(protocol.GetStats(), protocol.Stats)

    def shutdown(self, timeout: float = 30.0, *, wait: bool = True) -> protocol.ShuttingDown:
        """Stop the router gracefully; with ``wait``, return once it has exited."""
        reply = self._call(protocol.Shutdown(timeout), protocol.ShuttingDown)
        if wait:
            self._wait_closed(timeout + 10.0)
        self.close()
        return reply

    def wait_ready(self, timeout: float = 10.0) -> protocol.Pong:
        """Ping until the router answers (it creates its socket once its workers are up)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.ping()
            except errors.RouterUnavailable:
                self.close()
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)

    # Plumbing ----------------------------------------------------------------------------

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
            self._buffer = b""

    def __enter__(self) -> RouterClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _call(self, message: protocol.Request, expected: type[_R]) -> _R:
        line = protocol.encode(message)
        try:
            sock = self._connect()
            sock.sendall(line)
            reply = protocol.decode_reply(self._read_line(sock))
        except (OSError, EOFError) as exc:
            self.close()
            raise errors.RouterUnavailable(
                f"no answer from the router on {self.path}: {_reason(exc)}",
                hint="is it running? start it with: python -m shipyard.runtime.router --control "
                + self.path,
            ) from exc
        if isinstance(reply, protocol.ErrorReply):
            protocol.raise_error(reply)
        if not isinstance(reply, expected):
            raise errors.ProtocolError(
                f"expected a {expected.__name__} reply, got {type(reply).__name__}"
            )
        return reply

    def _connect(self) -> socket.socket:
        if self._sock is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            try:
                sock.connect(self.path)
            except OSError:
                sock.close()
                raise
            self._sock = sock
        return self._sock

    def _read_line(self, sock: socket.socket) -> bytes:
        while b"\n" not in self._buffer:
            chunk = sock.recv(65536)
            if not chunk:
                raise EOFError("the router closed the connection")
            self._buffer += chunk
            if len(self._buffer) > protocol.MAX_LINE:
                raise EOFError("reply too long")
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def _wait_closed(self, timeout: float) -> None:
        sock = self._sock
        if sock is None:
            return
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                sock.settimeout(max(deadline - time.monotonic(), 0.01))
                if not sock.recv(65536):
                    return
        except TimeoutError:
            raise errors.RouterUnavailable(
                f"the router on {self.path} did not exit within {timeout:g} s"
            ) from None
        except OSError:
            return


def _reason(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such socket"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "timed out"
    return str(exc) or type(exc).__name__
