"""A router worker process: serves traffic on the table's listeners and obeys its parent.

By default the parent binds every listener once and hands the same listening socket to every
worker (over a second inherited Unix socket, ``--fd-channel``, that carries nothing but file
descriptors): the workers share one accept queue, so a worker that is free takes the next
connection while a busy one is still working. With ``--reuse-port`` (no fd channel) every worker
binds every listener itself with ``SO_REUSEPORT`` instead, and the kernel hashes each new
connection to one worker whether or not that worker is busy.

The parent talks to it over an inherited Unix socket with the control protocol's messages (one
per line, answered in order). When that socket closes (the parent died), the worker shuts down
gracefully on its own. A worker never binds a port in the shared mode.

In the shared mode with more than one worker, the workers also share a table of how many client
connections each holds (``--balance-fd``, see :mod:`~shipyard.runtime.router.accepting`): a
worker holding more than its share stops accepting for a while, so connections opened in a burst
are spread over the workers instead of staying on the one that woke first.

Run by the parent as ``python -m shipyard.runtime.router.worker --channel-fd N
[--fd-channel M [--balance-fd T --balance-slot I]] [--cpu C]``.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import logging
import os
import signal
import socket
import sys
from typing import Any

import uvloop

from shipyard.runtime.router import (
    accepting,
    balancer,
    clientio,
    context,
    errors,
    protocol,
    proxy,
    routes,
    signals,
    upstream,
)

log = logging.getLogger("shipyard.runtime.router")

BACKLOG = 1024
SWEEP_SECONDS = 0.1
RETIRE_EVERY = 100
"""Sweeps between two passes over retired signal rows."""
UNROUTED: signals.Key = ("", "", "", "", "")


GC_THRESHOLD = 20_000
"""Allocations between two young-generation collections (Python's default: 700)."""

FD_MESSAGE_BYTES = 1024
"""Room for one fd message's payload: the listener's name (``host:port``)."""
FD_WAIT_SECONDS = 5.0
"""How long a worker waits for a listener's fd (the parent sends it before the table)."""


def bind_socket(listen: routes.Listen, *, reuse_port: bool = True) -> socket.socket:
    """A bound TCP socket on ``listen``; with ``reuse_port`` (SO_REUSEPORT) every worker can
    bind the same port."""
    family = socket.AF_INET6 if ":" in listen.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((listen.host, listen.port))
    except BaseException:
        sock.close()
        raise
    return sock


class Worker:
    """One worker's listeners, routes, pools and counters."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        fd_channel: socket.socket | None = None,
        connections: tuple[accepting.ConnectionTable, int] | None = None,
    ) -> None:
        self.loop = loop
        self.fd_channel = fd_channel
        """Where the parent's listening sockets come from; None: bind them here (SO_REUSEPORT)."""
        self.context = context.Context(loop)
        self.context.on_ejection = self._ejected
        if connections is not None:
            table, index = connections
            self.context.gate = accepting.AcceptGate(
                table, index, loop, stop=self._stop_accepting, start=self._start_accepting
            )
        self.table: routes.RouteTable | None = None
        self.listeners: dict[str, proxy.Listener] = {}
        self.upstreams: dict[str, upstream.Upstream] = {}
        self.counters = signals.CounterSet()
        self.routes: list[balancer.RouteRuntime] = []
        self.stopped = asyncio.Event()
        self._sweeps = 0
        self._shutting_down = False

    # Control messages --------------------------------------------------------------------

    async def handle(self, message: protocol.Request) -> protocol.Reply:
        match message:
            case protocol.Ping():
                version = self.table.version if self.table is not None else 0
                return protocol.Pong(os.getpid(), version, 1)
            case protocol.ApplyRoutes(table):
                return await self.apply(table)
            case protocol.SetInstanceState(address, state):
                return protocol.InstanceStateSet(address, state, self.set_state(address, state))
            case protocol.GetStats():
                version = self.table.version if self.table is not None else 0
                return protocol.Stats(version, 1, self.counters.snapshot())
            case protocol.Shutdown(timeout):
                self.context.spawn(self.shutdown(timeout))
                return protocol.ShuttingDown(timeout)
        raise AssertionError(message)  # pragma: no cover

    async def apply(self, table: routes.RouteTable) -> protocol.Applied:
        """Swap in a new table: get new listeners first, then switch every listener at once."""
        wanted = {str(listen): listen for listen in table.listeners()}
        fresh = [(name, listen) for name, listen in wanted.items() if name not in self.listeners]
        if self.fd_channel is not None:
            new_sockets = _receive_listeners(self.fd_channel, [name for name, _ in fresh])
        else:
            new_sockets = _bind_listeners(fresh)
        _update_settings(self.context.settings, table)
        routings = self._compile(table)
        for name, listener in list(self.listeners.items()):
            if name in wanted:
                listener.routing = routings[name]
            else:
                self._close_listener(listener)
                del self.listeners[name]
        gate = self.context.gate
        for name, sock in new_sockets.items():
            listener = proxy.Listener(name, routings[name])
            sock.listen(BACKLOG)
            listener.acceptor = clientio.Acceptor(
                self.loop, sock, functools.partial(self._accepted, listener)
            )
            if gate is None or gate.accepting:
                listener.acceptor.start()
            self.listeners[name] = listener
        self.table = table
        if gate is not None:
            gate.publish(len(self.context.clients))
        return protocol.Applied(table.version, tuple(wanted))

    def _accepted(self, listener: proxy.Listener, sock: socket.SocketType, peer: Any) -> None:
        """Serve a client connection just accepted for ``listener``."""
        client = proxy.ClientConnection(self.context, listener)
        transport = clientio.SocketTransport(self.loop, sock, peer, client, self._hand_over)
        client.connection_made(transport)
        transport.start()

    def _hand_over(self, transport: clientio.SocketTransport, data: bytes) -> None:
        """Give a connection that stays open to an event-loop transport (see clientio); ``data``,
        its first bytes, is read once that transport is made."""
        client = transport.protocol
        assert isinstance(client, proxy.ClientConnection)
        client.adopted = data
        self.context.spawn(self._adopt(client, transport.detach()))

    async def _adopt(self, client: proxy.ClientConnection, sock: socket.socket) -> None:
        try:
            await self.loop.connect_accepted_socket(lambda: client, sock)
        except OSError as exc:
            sock.close()
            client.connection_lost(exc)

    def _stop_accepting(self) -> None:
        """Stop accepting on every listener; the sockets stay open, their queues intact (the
        connections queued there go to the workers that accept)."""
        for listener in self.listeners.values():
            if listener.acceptor is not None:
                listener.acceptor.stop()

    def _start_accepting(self) -> None:
        if self._shutting_down:
            return
        for listener in self.listeners.values():
            if listener.acceptor is not None:
                listener.acceptor.start()

    def _compile(self, table: routes.RouteTable) -> dict[str, balancer.Routing]:
        ctx = self.context
        keys: list[signals.Key] = [UNROUTED]
        old_upstreams = self.upstreams
        new_upstreams: dict[str, upstream.Upstream] = {}
        runtimes: list[balancer.RouteRuntime] = []
        for route in table.routes:
            groups = []
            for group in route.groups:
                endpoints = []
                for instance in group.instances:
                    target = new_upstreams.get(instance.address) or old_upstreams.get(
                        instance.address
                    )
                    if target is None:
                        host, port = _split_address(instance.address)
                        target = upstream.Upstream(ctx, instance.address, host, port)
                    if target.draining:
                        target.set_draining(False)
                    new_upstreams[instance.address] = target
                    key = (
                        route.app,
                        route.environment,
                        group.release_id,
                        instance.instance_id,
                        instance.address,
                    )
                    keys.append(key)
                    endpoints.append(
                        balancer.Endpoint(
                            target,
                            instance.instance_id,
                            group.release_id,
                            instance.ready,
                            self.counters.get(key),
                        )
                    )
                groups.append(balancer.Group(group.release_id, group.weight, endpoints))
            own_key = (route.app, route.environment, "", "", "")
            keys.append(own_key)
            runtimes.append(balancer.RouteRuntime(route, groups, self.counters.get(own_key)))
        for address, target in old_upstreams.items():
            if address not in new_upstreams:
                target.retire()
        self.upstreams = new_upstreams
        now = context.clock()
        for runtime in runtimes:
            runtime.refresh(now)
        self.routes = runtimes
        self.counters.keep_only(keys, now)
        unrouted = self.counters.get(UNROUTED)
        routings: dict[str, balancer.Routing] = {}
        by_host: dict[str, balancer.RouteRuntime] = {}
        for runtime in runtimes:
            route = runtime.route
            if route.port is not None:
                listen = str(routes.Listen(route.port, route.bind))
                routings[listen] = balancer.Routing(runtime, {}, unrouted)
            for host in route.hosts:
                by_host[host] = runtime
        if table.vhost is not None:
            routings[str(table.vhost)] = balancer.Routing(None, by_host, unrouted)
        return routings

    def _close_listener(self, listener: proxy.Listener) -> None:
        listener.routing = None
        if listener.acceptor is not None:
            listener.acceptor.close()
        for client in list(self.context.clients):
            if client.listener is listener:
                client.shut_down()

    def set_state(self, address: str, state: routes.InstanceState) -> int:
        matched = 0
        for runtime in self.routes:
            for group in runtime.groups:
                for endpoint in group.endpoints:
                    if endpoint.upstream.address == address:
                        matched += 1
                        endpoint.ready = state is routes.InstanceState.READY
        target = self.upstreams.get(address)
        if target is not None:
            target.set_draining(state is routes.InstanceState.DRAINING)
        self._refresh_routes()
        return matched

    def _refresh_routes(self) -> None:
        now = context.clock()
        for runtime in self.routes:
            runtime.refresh(now)

    def _ejected(self, target: upstream.Upstream) -> None:
        self._refresh_routes()
        delay = max(target.ejected_until - context.clock(), 0.0) + 0.001
        self.loop.call_later(delay, self._refresh_routes)

    # Time ----------------------------------------------------------------------------------

    async def sweep(self) -> None:
        """Close what is past its deadline, a few times a second."""
        ctx = self.context
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            now = ctx.now = context.clock()
            for client in [c for c in ctx.clients if 0.0 < c.deadline < now]:
                client.expire()
            for conn in [u for u in ctx.upstreams if 0.0 < u.deadline < now]:
                conn.expire(now)
            self._sweeps += 1
            if self._sweeps % RETIRE_EVERY == 0:
                self.counters.keep_only(self._current_keys(), now)

    def _current_keys(self) -> list[signals.Key]:
        keys: list[signals.Key] = [UNROUTED]
        for runtime in self.routes:
            keys.append(runtime.own.key)
            keys.extend(e.counters.key for g in runtime.groups for e in g.endpoints)
        return keys

    # Stopping ------------------------------------------------------------------------------

    async def shutdown(self, timeout: float) -> None:
        """Stop accepting, let in-flight requests finish within ``timeout``, then stop."""
        if self._shutting_down:
            return
        self._shutting_down = True
        ctx = self.context
        ctx.closing = True
        if ctx.gate is not None:
            ctx.gate.withdraw()
        for listener in self.listeners.values():
            if listener.acceptor is not None:
                listener.acceptor.close()
        for client in list(ctx.clients):
            client.shut_down()
        deadline = context.clock() + timeout
        while ctx.clients and context.clock() < deadline:
            await asyncio.sleep(0.02)
        for client in list(ctx.clients):
            client.abort()
        for target in self.upstreams.values():
            target.close_idle()
        for conn in list(ctx.upstreams):
            conn.transport.abort()
        await asyncio.sleep(0)
        self.stopped.set()


def _bind_listeners(fresh: list[tuple[str, routes.Listen]]) -> dict[str, socket.socket]:
    """Bind each new listener here (``--reuse-port``); all or none."""
    new_sockets: dict[str, socket.socket] = {}
    for name, listen in fresh:
        try:
            new_sockets[name] = bind_socket(listen)
        except OSError as exc:
            for sock in new_sockets.values():
                sock.close()
            raise errors.RouterRefused(
                "bind_failed", f"cannot listen on {name}: {exc.strerror or exc}"
            ) from None
    return new_sockets


def _receive_listeners(channel: socket.socket, names: list[str]) -> dict[str, socket.socket]:
    """The parent's listening sockets for ``names``, one fd message each, in order; all or none.

    The parent sends them before the table that needs them, so they are already queued. On a
    mismatch everything queued is read and closed, so the next table starts from a clean channel.
    """
    received: list[socket.socket] = []
    new_sockets: dict[str, socket.socket] = {}
    try:
        for name in names:
            data, fds, _, _ = socket.recv_fds(channel, FD_MESSAGE_BYTES, 1, socket.MSG_CMSG_CLOEXEC)
            received.extend(socket.socket(fileno=fd) for fd in fds)
            got = data.decode(errors="replace")
            if got != name or len(fds) != 1:
                raise OSError(f"expected the socket of {name}, got {got!r} with {len(fds)} fd(s)")
            new_sockets[name] = received[-1]
    except OSError as exc:
        for sock in received:
            sock.close()
        _drain(channel)
        raise errors.RouterRefused(
            "worker_failed", f"worker {os.getpid()}: no listening socket from the parent: {exc}"
        ) from None
    return new_sockets


def _drain(channel: socket.socket) -> None:
    """Read and close whatever fd messages are still queued, without waiting."""
    timeout = channel.gettimeout()
    channel.setblocking(False)
    try:
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(
                    channel, FD_MESSAGE_BYTES, 4, socket.MSG_CMSG_CLOEXEC
                )
            except OSError:
                return
            for fd in fds:
                os.close(fd)
            if not data and not fds:
                return
    finally:
        channel.settimeout(timeout)


def _split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def _update_settings(settings: context.Settings, table: routes.RouteTable) -> None:
    fresh = context.Settings(table)
    for name in context.Settings.__slots__:
        setattr(settings, name, getattr(fresh, name))


async def serve(
    channel_fd: int,
    fd_channel: int | None = None,
    connections: tuple[int, int] | None = None,
) -> None:
    """Run a worker until it is told to stop or its parent goes away."""
    loop = asyncio.get_running_loop()
    fds = None
    if fd_channel is not None:
        fds = socket.socket(fileno=fd_channel)
        fds.settimeout(FD_WAIT_SECONDS)
    shared = None
    if connections is not None:
        fd, index = connections
        shared = (accepting.ConnectionTable.open(fd), index)
    worker = Worker(loop, fds, shared)
    sock = socket.socket(fileno=channel_fd)
    reader, writer = await asyncio.open_unix_connection(sock=sock, limit=protocol.MAX_LINE + 1)
    loop.add_signal_handler(signal.SIGTERM, lambda: worker.context.spawn(worker.shutdown(30.0)))
    sweeper = loop.create_task(worker.sweep())
    listening = loop.create_task(_obey(worker, reader, writer))
    gc.collect()
    gc.freeze()
    # A request's objects are freed by reference counting (connections break their own cycles),
    # so the collector finds little; at the default threshold it ran every few dozen requests and
    # showed up in the tail latency.
    gc.set_threshold(GC_THRESHOLD, 50, 100)
    await worker.stopped.wait()
    sweeper.cancel()
    listening.cancel()
    writer.close()


async def _obey(worker: Worker, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        line = await reader.readline()
        if not line:
            log.warning("router worker %d: parent went away; shutting down", os.getpid())
            await worker.shutdown(10.0)
            return
        try:
            reply: protocol.Reply = await worker.handle(protocol.decode_request(line))
        except errors.RouterError as exc:
            reply = protocol.error_reply(exc)
        writer.write(protocol.encode(reply))
        await writer.drain()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shipyard.runtime.router.worker")
    parser.add_argument("--channel-fd", type=int, required=True)
    parser.add_argument(
        "--fd-channel",
        type=int,
        help="a Unix socket the parent sends the listening sockets over (else: bind them here)",
    )
    parser.add_argument(
        "--balance-fd",
        type=int,
        help="shared memory with every worker's count of client connections (see accepting.py)",
    )
    parser.add_argument("--balance-slot", type=int, help="this worker's slot in --balance-fd")
    parser.add_argument("--cpu", type=int, help="pin this worker to one CPU")
    args = parser.parse_args(argv)
    if (args.balance_fd is None) != (args.balance_slot is None):
        parser.error("--balance-fd and --balance-slot go together")
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    logging.basicConfig(level=logging.INFO, format="%(name)s[%(process)d]: %(message)s")
    balance = None if args.balance_fd is None else (args.balance_fd, args.balance_slot)
    uvloop.run(serve(args.channel_fd, args.fd_channel, balance))
    return 0


if __name__ == "__main__":
    sys.exit(main())
