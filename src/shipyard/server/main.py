"""Running the server: bind the port, write server.json, serve the API until a signal.

``serve`` opens the store (migrating it), binds the API's socket itself (so a taken port is one
clear error, and port 0 picks a free one), starts the controller (supervisor, router, adoption)
in uvicorn's lifespan, writes ``server.json`` once it answers, and on SIGTERM or SIGINT stops
every instance and the router before exiting. Killed with SIGKILL, it leaves instances and router
running, and the next ``serve`` adopts them.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

from shipyard.core import errors
from shipyard.server import api, controller
from shipyard.store import database, paths, serverinfo


class ServeError(errors.UserError):
    """The server cannot start: its port is taken, another server runs on this home."""


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
    # without it every answer written in two parts waits out a delayed ACK (about 40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise ServeError(
                f"port {port} on {host} is already in use",
                hint=f"stop what listens there, or give another: `shipyard serve --port N` "
                f"(or set {serverinfo.PORT_VARIABLE})",
            ) from None
        raise ServeError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    sock.listen(128)
    sock.set_inheritable(False)
    return sock


def serve(host: str, port: int, home: Path) -> None:
    """Run the server in the foreground until SIGTERM or SIGINT."""
    import uvicorn

    running = serverinfo.read(home)
    if running is not None and running.pid != os.getpid():
        raise ServeError(
            f"a server for {home} is already running (pid {running.pid}, {running.url})",
            hint="stop it first: `shipyard server stop`",
        )
    router = serverinfo.router_settings()
    home.mkdir(parents=True, exist_ok=True)
    _configure_logging()
    sock = bind(host, port)
    try:
        store = database.open_database(paths.database_url(home))
    except BaseException:
        sock.close()
        raise
    info = serverinfo.ServerInfo(
        host=host,
        port=int(sock.getsockname()[1]),
        pid=os.getpid(),
        token=serverinfo.new_token(),
        started_at=time.time(),
    )
    state = controller.Controller(
        home,
        store,
        router_workers=router.workers,
        vhost_port=router.host_port,
        metrics_port=router.metrics_port,
    )
    state.flags_url = info.url

    @contextlib.asynccontextmanager
    async def lifespan(app: object) -> AsyncIterator[None]:
        await state.start()
        serverinfo.write(home, info)
        logging.getLogger("shipyard.server").info("listening on %s (pid %d)", info.url, info.pid)
        try:
            yield
        finally:
            serverinfo.remove(home, info.pid)
            await state.close()

    app = api.create_app(state, token=info.token, started_at=info.started_at, pid=info.pid)
    app.router.lifespan_context = lifespan
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        loop="asyncio",
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        serverinfo.remove(home, info.pid)
        store.close()
        sock.close()
    if not server.started:
        raise ServeError("the server did not start", hint=f"see {paths.server_log(home)}")


def _configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
