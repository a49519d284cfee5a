"""The router's parent process: the control socket, the metrics listener, and the workers.

It never touches traffic. It keeps the route table the server sent, hands it to every worker
(and to a worker it restarts after a crash), sums the workers' signals for ``stats`` and
``/metrics``, and stops everything on ``shutdown`` or SIGTERM.

It binds each traffic listener of the table once, calls ``listen()``, and hands that one
listening socket to every worker (an fd message on each worker's fd channel, sent just before
the table that needs it): the workers share one accept queue, so an idle worker takes the next
connection while a busy one is still working. It keeps its own copy open for as long as the
table has the listener (a restarted worker gets the same socket; the port never closes while a
worker is alive) and never accepts on it. With ``--reuse-port`` each worker binds its own
``SO_REUSEPORT`` socket instead, and the parent only checks that the ports can be bound.

Run as ``python -m shipyard.runtime.router --control PATH [--workers N] [--pin-workers]
[--reuse-port]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import replace

import uvloop

from shipyard.runtime.router import accepting, errors, protocol, routes, signals, worker

log = logging.getLogger("shipyard.runtime.router")

WORKER_REPLY_TIMEOUT = 10.0
FD_SEND_TIMEOUT = 5.0
RESTART_FIRST = 0.5
RESTART_MAX = 10.0
METRICS_HEAD_LIMIT = 8192


class WorkerHandle:
    """One worker process and the socket to it (one request at a time, answered in order)."""

    def __init__(
        self,
        index: int,
        cpu: int | None = None,
        *,
        share_listeners: bool = True,
        connections: accepting.ConnectionTable | None = None,
    ) -> None:
        self.index = index
        self.connections = connections
        """The workers' shared connection counts (None: this worker never stops accepting)."""
        self.cpu = cpu
        """The CPU this worker is pinned to, if any."""
        self.share_listeners = share_listeners
        """Hand the worker the parent's listening sockets (else it binds its own, SO_REUSEPORT)."""
        self.fd_channel: socket.socket | None = None
        self.listeners: frozenset[str] = frozenset()
        """The listeners whose socket this worker holds (those of the last table it applied)."""
        self.process: asyncio.subprocess.Process | None = None
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.lock = asyncio.Lock()
        self.last_signals: tuple[protocol.InstanceSignals, ...] = ()
        self.restarts = 0

    async def start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        passed = [theirs]
        options = [] if self.cpu is None else ["--cpu", str(self.cpu)]
        if self.share_listeners:
            self.fd_channel, their_fds = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            self.fd_channel.settimeout(FD_SEND_TIMEOUT)
            passed.append(their_fds)
            options += ["--fd-channel", str(their_fds.fileno())]
        inherited = [s.fileno() for s in passed]
        if self.connections is not None:
            inherited.append(self.connections.fd)
            options += ["--balance-fd", str(self.connections.fd)]
            options += ["--balance-slot", str(self.index)]
        try:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "shipyard.runtime.router.worker",
                "--channel-fd",
                str(theirs.fileno()),
                *options,
                pass_fds=tuple(inherited),
                stdin=subprocess.DEVNULL,
            )
        finally:
            for sock in passed:
                sock.close()
        self.listeners = frozenset()
        self.reader, self.writer = await asyncio.open_unix_connection(
            sock=ours, limit=protocol.MAX_LINE + 1
        )
        self.last_signals = ()

    async def request(
        self, message: protocol.Request, sockets: dict[str, socket.socket] | None = None
    ) -> protocol.Reply:
        """Send one message and read its reply. An ``ApplyRoutes`` first sends, from
        ``sockets``, each listening socket of its table the worker does not hold yet."""
        async with self.lock:
            if self.writer is None or self.reader is None:
                return protocol.ErrorReply("worker_failed", f"worker {self.index} is not running")
            try:
                if isinstance(message, protocol.ApplyRoutes) and self.fd_channel is not None:
                    self._send_listeners(message.table, sockets or {})
                self.writer.write(protocol.encode(message))
                await self.writer.drain()
                async with asyncio.timeout(WORKER_REPLY_TIMEOUT):
                    line = await self.reader.readline()
            except (OSError, TimeoutError) as exc:
                return protocol.ErrorReply("worker_failed", f"worker {self.index}: {exc!r}")
            if not line:
                return protocol.ErrorReply("worker_failed", f"worker {self.index} went away")
            reply = protocol.decode_reply(line)
            if isinstance(reply, protocol.Stats):
                self.last_signals = reply.signals
            if isinstance(reply, protocol.Applied):
                self.listeners = frozenset(reply.listeners)
            return reply

    def _send_listeners(self, table: routes.RouteTable, sockets: dict[str, socket.socket]) -> None:
        """One fd message per listener the worker lacks, in the table's order (it reads them
        in that order before it applies the table)."""
        assert self.fd_channel is not None
        for name in dict.fromkeys(str(listen) for listen in table.listeners()):
            if name not in self.listeners:
                socket.send_fds(self.fd_channel, [name.encode()], [sockets[name].fileno()])

    def detach(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None
        if self.fd_channel is not None:
            self.fd_channel.close()
            self.fd_channel = None
        self.listeners = frozenset()


class Parent:
    """The control plane of one router."""

    def __init__(
        self,
        control_path: str,
        workers: int,
        *,
        pin_workers: bool = False,
        reuse_port: bool = False,
    ) -> None:
        self.control_path = control_path
        cpus = sorted(os.sched_getaffinity(0))
        self.reuse_port = reuse_port
        """Each worker binds its own SO_REUSEPORT sockets (else they share the parent's)."""
        self.counts = (
            accepting.ConnectionTable.create(workers) if workers > 1 and not reuse_port else None
        )
        """Each worker's count of client connections, so they even them out (shared queue)."""
        self.workers = [
            WorkerHandle(
                i,
                cpus[i % len(cpus)] if pin_workers else None,
                share_listeners=not reuse_port,
                connections=self.counts,
            )
            for i in range(workers)
        ]
        self.sockets: dict[str, socket.socket] = {}
        """The listening sockets the workers share, by listener name (empty with reuse_port)."""
        self.table: routes.RouteTable | None = None
        self.states: dict[str, routes.InstanceState] = {}
        self.retired: tuple[protocol.InstanceSignals, ...] = ()
        """Signals of workers that died, so sums never go backwards."""
        self.lock = asyncio.Lock()
        self.stopping = False
        self.done = asyncio.Event()
        self.control: asyncio.AbstractServer | None = None
        self.metrics: asyncio.AbstractServer | None = None
        self.metrics_listen: routes.Listen | None = None
        self.connections: set[asyncio.StreamWriter] = set()
        self.watchers: list[asyncio.Task[None]] = []
        self._stopper: asyncio.Future[None] | None = None

    # Starting ------------------------------------------------------------------------------

    async def run(self) -> None:
        _refuse_if_live(self.control_path)
        await asyncio.gather(*(handle.start() for handle in self.workers))
        for handle in self.workers:
            reply = await handle.request(protocol.Ping())
            if isinstance(reply, protocol.ErrorReply):
                raise errors.RouterError(f"worker {handle.index} did not start: {reply.message}")
        self.watchers = [asyncio.create_task(self._watch(h)) for h in self.workers]
        old_umask = os.umask(0o177)
        try:
            self.control = await asyncio.start_unix_server(
                self._serve_control, self.control_path, limit=protocol.MAX_LINE + 1
            )
        finally:
            os.umask(old_umask)
        os.chmod(self.control_path, 0o600)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._signalled)
        log.info(
            "router %d: %d worker(s), control socket %s",
            os.getpid(),
            len(self.workers),
            self.control_path,
        )
        await self.done.wait()

    def _signalled(self) -> None:
        self._stopper = asyncio.ensure_future(self.shutdown(30.0))

    async def _watch(self, handle: WorkerHandle) -> None:
        """Restart a worker that died, with backoff, and give it the running table."""
        while True:
            process = handle.process
            assert process is not None
            code = await process.wait()
            if self.stopping:
                return
            handle.detach()
            if self.counts is not None:  # the others stop counting on it at once
                self.counts.slots[handle.index] = accepting.ABSENT
            self.retired = protocol.merge_signals(
                [*self.retired, *(replace(s, in_flight=0) for s in handle.last_signals)]
            )
            delay = min(RESTART_FIRST * 2**handle.restarts, RESTART_MAX)
            handle.restarts += 1
            log.error(
                "router worker %d exited with %s; restarting in %.1f s", handle.index, code, delay
            )
            await asyncio.sleep(delay)
            await self._restart(handle)

    async def _restart(self, handle: WorkerHandle) -> None:
        if self.stopping:
            return
        async with self.lock:
            await handle.start()
            if self.table is not None:
                await handle.request(protocol.ApplyRoutes(self.table), self.sockets)
                for address, state in self.states.items():
                    await handle.request(protocol.SetInstanceState(address, state))

    # Control connections -------------------------------------------------------------------

    async def _serve_control(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.connections.add(writer)
        try:
            while True:
                try:
                    line = await reader.readline()
                except ValueError:
                    reply: protocol.Reply = protocol.ErrorReply(
                        "invalid_message", f"message is longer than {protocol.MAX_LINE} bytes"
                    )
                    writer.write(protocol.encode(reply))
                    return
                if not line:
                    return
                if not line.strip():
                    continue
                try:
                    reply = await self.handle(protocol.decode_request(line))
                except errors.RouterError as exc:
                    reply = protocol.error_reply(exc)
                writer.write(protocol.encode(reply))
                await writer.drain()
        except (ConnectionError, OSError):
            return
        finally:
            self.connections.discard(writer)
            if not self.stopping:
                writer.close()

    async def handle(self, message: protocol.Request) -> protocol.Reply:
        if self.stopping and not isinstance(message, protocol.Ping | protocol.GetStats):
            raise errors.RouterRefused("shutting_down", "the router is shutting down")
        match message:
            case protocol.Ping():
                version = self.table.version if self.table is not None else 0
                return protocol.Pong(os.getpid(), version, len(self.workers))
            case protocol.ApplyRoutes(table):
                async with self.lock:
                    return await self._apply(table)
            case protocol.SetInstanceState(address, state):
                async with self.lock:
                    return await self._set_state(address, state)
            case protocol.GetStats():
                return await self.stats()
            case protocol.Shutdown(timeout):
                self._stopper = asyncio.ensure_future(self.shutdown(timeout))
                return protocol.ShuttingDown(timeout)
        raise AssertionError(message)  # pragma: no cover

    async def _apply(self, table: routes.RouteTable) -> protocol.Reply:
        running = self.table
        if running is not None:
            if table == running:
                return protocol.Applied(table.version, tuple(str(x) for x in table.listeners()))
            if table.version <= running.version:
                raise errors.RouterRefused(
                    "stale_version",
                    f"route table version {table.version} is not newer than the running "
                    f"version {running.version}",
                    key_path="table.version",
                    hint="send each new table with a higher version",
                )
        have = set(self.sockets) if not self.reuse_port else {str(x) for x in _listeners(running)}
        fresh = _open_listeners(table, have, keep=not self.reuse_port)
        try:
            metrics_server = await self._open_metrics(table.metrics)
        except BaseException:
            _close(fresh.values())
            raise
        self.sockets.update(fresh)
        replies = await asyncio.gather(
            *(h.request(protocol.ApplyRoutes(table), self.sockets) for h in self.workers)
        )
        failed = [r for r in replies if isinstance(r, protocol.ErrorReply)]
        if failed:
            if metrics_server is not None and metrics_server is not self.metrics:
                metrics_server.close()
            # the workers that took it go back (a refused first table: to an empty one), so
            # no worker serves a table the router refused
            previous = running if running is not None else routes.RouteTable(table.version, ())
            for handle, reply in zip(self.workers, replies, strict=True):
                if not isinstance(reply, protocol.ErrorReply):
                    await handle.request(protocol.ApplyRoutes(previous), self.sockets)
                    for address, state in self.states.items():
                        await handle.request(protocol.SetInstanceState(address, state))
            self._close_sockets_except(_listeners(running))
            return failed[0]
        # every worker now runs a table without the listeners it dropped: let go of them
        self._close_sockets_except(table.listeners())
        if self.metrics is not None and self.metrics is not metrics_server:
            self.metrics.close()
        self.metrics = metrics_server
        self.metrics_listen = table.metrics
        self.table = table
        self.states = {}
        log.info("router: route table version %d applied", table.version)
        first = replies[0]
        assert isinstance(first, protocol.Applied)
        return first

    async def _set_state(self, address: str, state: routes.InstanceState) -> protocol.Reply:
        table = self.table
        matched = 0
        if table is not None:
            matched = sum(
                1
                for route in table.routes
                for group in route.groups
                for instance in group.instances
                if instance.address == address
            )
        if not matched:
            raise errors.RouterRefused(
                "unknown_instance",
                f"no route has an instance at {address}",
                key_path="address",
                hint="apply a route table naming the instance first",
            )
        replies = await asyncio.gather(
            *(h.request(protocol.SetInstanceState(address, state)) for h in self.workers)
        )
        for reply in replies:
            if isinstance(reply, protocol.ErrorReply):
                return reply
        self.states[address] = state
        return protocol.InstanceStateSet(address, state, matched)

    async def stats(self) -> protocol.Stats:
        replies = await asyncio.gather(*(h.request(protocol.GetStats()) for h in self.workers))
        rows = list(self.retired)
        for handle, reply in zip(self.workers, replies, strict=True):
            if isinstance(reply, protocol.Stats):
                rows.extend(reply.signals)
            else:
                rows.extend(handle.last_signals)
        version = self.table.version if self.table is not None else 0
        return protocol.Stats(version, len(self.workers), protocol.merge_signals(rows))

    def _close_sockets_except(self, keep: tuple[routes.Listen, ...]) -> None:
        names = {str(listen) for listen in keep}
        for name in [name for name in self.sockets if name not in names]:
            self.sockets.pop(name).close()

    # Metrics -------------------------------------------------------------------------------

    async def _open_metrics(self, listen: routes.Listen | None) -> asyncio.AbstractServer | None:
        if listen == self.metrics_listen:
            return self.metrics
        if listen is None:
            return None
        try:
            sock = worker.bind_socket(listen, reuse_port=False)
        except OSError as exc:
            raise errors.RouterRefused(
                "bind_failed",
                f"cannot listen on {listen} for metrics: {exc.strerror or exc}",
                key_path="table.metrics.port",
            ) from None
        sock.listen(64)
        sock.setblocking(False)
        return await asyncio.start_server(self._serve_metrics, sock=sock)

    async def _serve_metrics(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            async with asyncio.timeout(10.0):
                head = await reader.readuntil(b"\r\n\r\n")
            request_line = head.split(b"\r\n", 1)[0].split()
            path = request_line[1].split(b"?", 1)[0] if len(request_line) == 3 else b""
            if request_line[:1] not in ([b"GET"], [b"HEAD"]):
                status, body, kind = "405 Method Not Allowed", b"GET /metrics\n", "text/plain"
            elif path == b"/metrics":
                text = signals.render(await self.stats())
                status, body, kind = "200 OK", text.encode(), "text/plain; version=0.0.4"
            elif path == b"/healthz":
                status, body, kind = "200 OK", b"ok\n", "text/plain"
            else:
                status, body, kind = "404 Not Found", b"see /metrics\n", "text/plain"
            head_out = (
                f"HTTP/1.1 {status}\r\nContent-Type: {kind}; charset=utf-8\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            ).encode()
            writer.write(head_out if request_line[:1] == [b"HEAD"] else head_out + body)
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, OSError):
            pass
        finally:
            writer.close()

    # Stopping ------------------------------------------------------------------------------

    async def shutdown(self, timeout: float) -> None:
        if self.stopping:
            return
        self.stopping = True
        log.info("router: shutting down (in-flight requests have %.1f s)", timeout)
        if self.metrics is not None:
            self.metrics.close()
        await asyncio.gather(*(h.request(protocol.Shutdown(timeout)) for h in self.workers))
        self._close_sockets_except(())  # the workers stopped accepting: the ports close now
        deadline = time.monotonic() + timeout + 5.0
        for handle in self.workers:
            process = handle.process
            if process is None:
                continue
            try:
                async with asyncio.timeout(max(deadline - time.monotonic(), 0.1)):
                    await process.wait()
            except TimeoutError:
                log.error("router worker %d did not stop in time; killing it", handle.index)
                process.kill()
                await process.wait()
            handle.detach()
        for task in self.watchers:
            task.cancel()
        if self.control is not None:
            self.control.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.control_path)
        for writer in list(self.connections):
            writer.close()
        self.done.set()


def _refuse_if_live(path: str) -> None:
    """Refuse to start over a live router's socket; remove a dead one's."""
    if not os.path.exists(path):
        return
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1.0)
        probe.connect(path)
    except OSError:
        os.unlink(path)
        return
    finally:
        probe.close()
    raise errors.RouterRefused(
        "already_running",
        f"a router is already listening on {path}",
        hint="stop it first (shutdown), or give this one another --control path",
    )


def _listeners(table: routes.RouteTable | None) -> tuple[routes.Listen, ...]:
    return table.listeners() if table is not None else ()


def _close(sockets: Iterable[socket.socket]) -> None:
    for sock in sockets:
        sock.close()


def _open_listeners(
    table: routes.RouteTable, have: set[str], *, keep: bool
) -> dict[str, socket.socket]:
    """Bind the table's listeners not in ``have``, before any worker is asked; all or none.

    With ``keep``, the sockets listen and are returned, for the workers to share; without,
    they are closed again (each worker binds its own with SO_REUSEPORT) and nothing is returned.
    """
    bound: dict[str, socket.socket] = {}
    for listen in table.listeners():
        name = str(listen)
        if name in have or name in bound:
            continue
        try:
            sock = worker.bind_socket(listen, reuse_port=not keep)
            bound[name] = sock
            if keep:
                sock.listen(worker.BACKLOG)
        except OSError as exc:
            _close(bound.values())
            port_paths = [
                f"table.routes[{i}].port"
                for i, route in enumerate(table.routes)
                if route.port == listen.port
            ]
            where = port_paths[0] if port_paths else "table.vhost.port"
            raise errors.RouterRefused(
                "bind_failed",
                f"cannot listen on {listen}: {exc.strerror or exc}",
                key_path=where,
                hint="another process holds the port; pick a free one",
            ) from None
    if not keep:
        _close(bound.values())
        return {}
    return bound


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shipyard.runtime.router",
        description="Shipyard's router: an HTTP/1.1 reverse proxy driven over a control socket.",
    )
    parser.add_argument("--control", required=True, help="Unix socket path for control (0600)")
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes sharing the ports (default 1)"
    )
    parser.add_argument(
        "--pin-workers",
        action="store_true",
        help="pin worker i to the i-th CPU this process may use (fewer migrations, warmer caches)",
    )
    parser.add_argument(
        "--reuse-port",
        action="store_true",
        help=(
            "each worker binds its own SO_REUSEPORT socket per port, and the kernel picks the "
            "worker of each new connection (default: the workers share one accept queue per port)"
        ),
    )
    args = parser.parse_args(argv)
    if not 1 <= args.workers <= 64:
        parser.error("--workers must be between 1 and 64")
    logging.basicConfig(level=logging.INFO, format="%(name)s[%(process)d]: %(message)s")
    parent = Parent(
        os.path.abspath(args.control),
        args.workers,
        pin_workers=args.pin_workers,
        reuse_port=args.reuse_port,
    )
    try:
        uvloop.run(parent.run())
    except errors.RouterError as exc:
        log.error("router: %s", exc.render())
        return 2
    return 0
