"""Graceful shutdown: SIGTERM stops accepting, lets requests in flight finish, exits 0."""

from __future__ import annotations

import signal
import socket
import threading
import time
import unittest

from exposition import parse_exposition
from server_process import Reply, ServerProcess, read_reply, wait_until


class BackgroundRequest:
    """A GET running in a thread, so the test can signal the app while it is in flight."""

    def __init__(self, server: ServerProcess, path: str) -> None:
        self.reply: Reply | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(server, path), daemon=True)
        self._thread.start()

    def _run(self, server: ServerProcess, path: str) -> None:
        try:
            self.reply = server.get(path, timeout=10)
        except (OSError, ValueError) as exc:  # http.client's errors derive from these
            self.error = exc

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def join(self) -> None:
        self._thread.join(10)


def in_flight(server: ServerProcess, path: str) -> float:
    scrape = parse_exposition(server.get("/metrics").body.decode())
    return scrape.value("http_requests_in_flight", path=path) or 0


def refuses_connections(server: ServerProcess) -> bool:
    try:
        socket.create_connection((server.host, server.port), timeout=1).close()
    except ConnectionError:  # refused, or reset while the listener closed mid-handshake
        return True
    return False


class GracefulShutdownTests(unittest.TestCase):
    def test_sigterm_lets_the_request_in_flight_finish(self) -> None:
        with ServerProcess(env={"WEBAPP_SLOW_MS": "900"}) as server:
            slow = BackgroundRequest(server, "/version")
            wait_until(lambda: in_flight(server, "/version") == 1)
            server.send_signal(signal.SIGTERM)
            wait_until(lambda: refuses_connections(server))
            self.assertTrue(slow.running, "the slow request ended before the listener closed")
            slow.join()
            self.assertIsNone(slow.error)
            assert slow.reply is not None
            self.assertEqual(slow.reply.status, 200)
            self.assertEqual(slow.reply.headers["Connection"], "close")
            self.assertEqual(server.wait(), 0)
            log = server.log_lines()
        signalled = next(
            i for i, line in enumerate(log) if line.endswith("SIGTERM received: draining")
        )
        answered = next(i for i, line in enumerate(log) if " GET /version 200 " in line)
        self.assertLess(signalled, answered, log)
        self.assertTrue(any("waiting up to 10s for" in line for line in log[signalled:]), log)
        self.assertTrue(log[-1].endswith("stopped cleanly"), log)

    def test_drain_is_bounded_by_drain_seconds(self) -> None:
        with ServerProcess(env={"WEBAPP_DRAIN_SECONDS": "0.3"}) as server:
            stuck = BackgroundRequest(server, "/slow?ms=5000")
            wait_until(lambda: in_flight(server, "/slow") == 1)
            signalled = time.monotonic()
            server.send_signal(signal.SIGTERM)
            self.assertEqual(server.wait(), 0)
            self.assertLess(time.monotonic() - signalled, 3.0)  # not the 5 s request
            stuck.join()
            self.assertIsNotNone(stuck.error)
            self.assertTrue(
                server.log_lines()[-1].endswith(
                    "drain timed out after 0.3s with 1 request(s) in flight"
                )
            )

    def test_idle_keep_alive_connection_does_not_delay_exit(self) -> None:
        with ServerProcess() as server:
            connection = server.connection()
            self.addCleanup(connection.close)
            connection.request("GET", "/healthz")
            self.assertEqual(read_reply(connection).status, 200)
            signalled = time.monotonic()
            self.assertEqual(server.stop(), 0)
            self.assertLess(time.monotonic() - signalled, 3.0)  # not the 10 s drain

    def test_sigint_drains_too(self) -> None:
        with ServerProcess() as server:
            server.send_signal(signal.SIGINT)
            self.assertEqual(server.wait(), 0)
            self.assertTrue(server.log_lines()[0].endswith("SIGINT received: draining"))

    def test_readiness_turns_to_draining_for_open_connections(self) -> None:
        with ServerProcess(env={"WEBAPP_SLOW_MS": "600"}) as server:
            connection = server.connection()
            self.addCleanup(connection.close)
            connection.request("GET", "/healthz")
            read_reply(connection)
            slow = BackgroundRequest(server, "/version")
            wait_until(lambda: in_flight(server, "/version") == 1)
            server.send_signal(signal.SIGTERM)
            wait_until(lambda: refuses_connections(server))
            connection.request("GET", "/readyz")
            reply = read_reply(connection)
            self.assertEqual((reply.status, reply.json()["status"]), (503, "draining"))
            self.assertEqual(reply.headers["Connection"], "close")
            slow.join()
            self.assertEqual(server.wait(), 0)


if __name__ == "__main__":
    unittest.main()
