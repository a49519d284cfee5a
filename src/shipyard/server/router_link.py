"""The server's hold on the router process: start it (or find it still running), send it route
tables, stop it.

The router runs in its own session, so it keeps serving while the server is down; a restarted
server finds it on ``$SHIPYARD_HOME/router.sock`` and carries on from its table version. Calls are
synchronous (``RouterClient``) and serialised by a lock; the controller makes them from a thread.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from pathlib import Path

from shipyard.runtime.router import client, errors, routes
from shipyard.server import routing

_log = logging.getLogger(__name__)
SOCKET = "router.sock"
LOG = "router.log"


class RouterLink:
    """Starts or adopts the router and keeps its route table."""

    def __init__(
        self,
        home: Path,
        *,
        workers: int = 1,
        vhost_port: int | None = None,
        metrics_port: int | None = None,
    ) -> None:
        self.home = home
        self.workers = workers
        self.vhost = routes.Listen(vhost_port) if vhost_port else None
        """The shared listener where routes are chosen by Host (``staging.shop.localhost``)."""
        self.metrics = routes.Listen(metrics_port) if metrics_port else None
        """The listener of the router's ``/metrics``."""
        self.path = home / SOCKET
        self.pid: int | None = None
        self.adopted = False
        self._client = client.RouterClient(self.path, timeout=10.0)
        self._lock = threading.Lock()
        self._version = 0
        self._routes: tuple[routes.Route, ...] | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Find the router of this home, or start one; wait until it answers."""
        with self._lock:
            try:
                pong = self._client.ping()
                self.adopted = True
            except errors.RouterUnavailable:
                self._client.close()
                self.path.unlink(missing_ok=True)
                with (self.home / LOG).open("ab") as log:
                    self._process = subprocess.Popen(
                        client.command(self.path, workers=self.workers),
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                        cwd=self.home,
                    )
                pong = self._client.wait_ready(timeout=20.0)
            self.pid = pong.pid
            self._version = pong.version

    def apply(self, table_routes: tuple[routes.Route, ...], *, force: bool = False) -> None:
        """Send the table when it differs from the running one. Raises ``RouterRefused``."""
        with self._lock:
            if table_routes == self._routes and not force:
                return
            version = routing.next_version(self._version, time.time_ns() // 1000)
            table = routes.RouteTable(
                version=version, routes=table_routes, vhost=self.vhost, metrics=self.metrics
            )
            self._client.apply_routes(table)
            self._version = version
            self._routes = table_routes
            _log.info("route table %d: %s", version, describe(table_routes))

    def drain(self, addresses: list[str]) -> None:
        """Send no new requests to these instances and close their idle pooled connections."""
        with self._lock:
            for address in addresses:
                try:
                    self._client.set_instance_state(address, routes.InstanceState.DRAINING)
                except errors.RouterError:
                    continue

    def in_flight(self, addresses: list[str]) -> int:
        """Requests the router is serving now on these instances (summed over its workers)."""
        wanted = set(addresses)
        with self._lock:
            signals = self._client.stats().signals
        return sum(row.in_flight for row in signals if row.address in wanted)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop the router gracefully and wait until it has exited."""
        with self._lock:
            try:
                self._client.shutdown(timeout=timeout)
            except errors.RouterError:
                pass
            finally:
                self._client.close()
            if self._process is not None:
                try:
                    self._process.wait(timeout=timeout + 5)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()

    def detach(self) -> None:
        """Let go of the router without stopping it."""
        with self._lock:
            self._client.close()


def describe(table_routes: tuple[routes.Route, ...]) -> str:
    """``staging:8081 [r2 w100 2/2 ready, r1 w0 0/2 ready]``, for the server log."""
    parts = []
    for route in table_routes:
        groups = ", ".join(
            f"{g.release_id} w{g.weight} {sum(i.ready for i in g.instances)}/{len(g.instances)} "
            "ready"
            for g in route.groups
        )
        parts.append(f"{route.environment}:{route.port} [{groups}]")
    return "; ".join(parts) or "no routes"
