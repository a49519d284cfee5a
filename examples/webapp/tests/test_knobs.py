"""The misbehaviour knobs, each against a real app process."""

from __future__ import annotations

import re
import time
import unittest
from fractions import Fraction

from exposition import parse_exposition
from server_process import ServerProcess, run_all_to_exit, run_to_exit, wait_until
from webapp import faults, settings


def elapsed(server: ServerProcess, path: str) -> float:
    started = time.monotonic()
    server.get(path)
    return time.monotonic() - started


class SlowTests(unittest.TestCase):
    def test_slow_delays_application_requests_but_not_probes(self) -> None:
        with ServerProcess(env={"WEBAPP_SLOW_MS": "400"}) as server:
            self.assertGreaterEqual(elapsed(server, "/version"), 0.4)
            self.assertGreaterEqual(elapsed(server, "/api/items"), 0.4)
            for probe in ("/healthz", "/readyz", "/metrics"):
                self.assertLess(elapsed(server, probe), 0.3, probe)

    def test_jitter_adds_at_most_its_bound(self) -> None:
        env = {"WEBAPP_SLOW_MS": "20", "WEBAPP_SLOW_JITTER_MS": "60", "WEBAPP_SEED": "7"}
        with ServerProcess(env=env) as server:
            durations = [elapsed(server, "/version") for _ in range(5)]
        # The upper bound leaves room for a busy machine; test_faults checks the draws exactly.
        self.assertTrue(all(0.02 <= d < 0.08 + 0.5 for d in durations), durations)


class ErrorRateTests(unittest.TestCase):
    def test_counter_pattern_fails_every_other_request_at_one_half(self) -> None:
        with ServerProcess(env={"WEBAPP_ERROR_RATE": "0.5"}) as server:
            statuses = []
            for _ in range(6):
                statuses.append(server.get("/version").status)
                self.assertEqual(server.get("/healthz").status, 200)
            self.assertEqual(statuses, [200, 500, 200, 500, 200, 500])
            self.assertEqual(server.get("/version").status, 200)  # the 7th application request
            failed = server.get("/api/items")  # the 8th
            self.assertEqual(failed.status, 500)
            self.assertEqual(failed.json(), {"error": "injected failure (WEBAPP_ERROR_RATE)"})
            scrape = parse_exposition(server.get("/metrics").body.decode())
            self.assertEqual(
                scrape.value("http_requests_total", method="GET", path="/version", status="500"), 3
            )
            self.assertEqual(
                scrape.value("http_requests_total", method="GET", path="/healthz", status="200"), 6
            )

    def test_rate_one_fails_everything_but_probes(self) -> None:
        with ServerProcess(env={"WEBAPP_ERROR_RATE": "1"}) as server:
            self.assertEqual(
                [server.get(p).status for p in ("/", "/version", "/api/items")], [500] * 3
            )
            self.assertEqual(
                [server.get(p).status for p in ("/healthz", "/readyz", "/metrics")], [200] * 3
            )

    def test_seeded_draws_are_repeatable(self) -> None:
        env = {"WEBAPP_ERROR_RATE": "0.3", "WEBAPP_SEED": "42"}
        expected_injector = faults.FaultInjector(
            settings.Faults(error_rate=Fraction("0.3"), seed=42)
        )
        expected = [500 if expected_injector.should_fail() else 200 for _ in range(12)]
        self.assertIn(500, expected)
        self.assertIn(200, expected)
        with ServerProcess(env=env) as server:
            self.assertEqual([server.get("/version").status for _ in range(12)], expected)


class CrashTests(unittest.TestCase):
    def test_crash_after_answers_n_requests_then_exits_1(self) -> None:
        with ServerProcess(env={"WEBAPP_CRASH_AFTER": "3"}) as server:
            replies = [server.get(path) for path in ("/healthz", "/version", "/api/items")]
            self.assertEqual([reply.status for reply in replies], [200, 200, 200])
            self.assertEqual(replies[2].json(), {"items": []})
            self.assertEqual(server.wait(), 1)
            self.assertIn("answered 3 requests: WEBAPP_CRASH_AFTER reached", server.log())

    def test_crash_on_start_exits_1_before_listening(self) -> None:
        exited = run_to_exit({"WEBAPP_CRASH_ON_START": "1"})
        self.assertEqual(exited.returncode, 1)
        self.assertEqual(exited.stdout, "")
        self.assertEqual(
            exited.stderr, "webapp: WEBAPP_CRASH_ON_START is set: exiting with status 1\n"
        )


class HealthTests(unittest.TestCase):
    def test_unhealthy_fails_probes_and_still_serves(self) -> None:
        with ServerProcess(env={"WEBAPP_UNHEALTHY": "true"}) as server:
            health = server.get("/healthz")
            self.assertEqual((health.status, health.json()["status"]), (503, "unhealthy"))
            ready = server.get("/readyz")
            self.assertEqual((ready.status, ready.json()["status"]), (503, "unhealthy"))
            self.assertEqual(server.get("/version").status, 200)

    def test_startup_delay_reports_starting_then_healthy(self) -> None:
        with ServerProcess(env={"WEBAPP_STARTUP_DELAY_MS": "1000"}) as server:
            started = time.monotonic()
            first = server.get("/healthz")
            self.assertEqual((first.status, first.json()["status"]), (503, "starting"))
            self.assertEqual(server.get("/readyz").json()["status"], "starting")
            wait_until(lambda: server.get("/healthz").status == 200, timeout=3)
            self.assertGreater(time.monotonic() - started, 0.3)
            self.assertEqual(server.get("/readyz").status, 200)


class OptionTests(unittest.TestCase):
    def test_port_from_the_environment(self) -> None:
        with ServerProcess(env={"PORT": "0"}, args=()) as server:
            self.assertEqual(server.get("/healthz").status, 200)

    def test_version_and_instance_from_the_environment(self) -> None:
        env = {"WEBAPP_VERSION": "2.3.4-canary", "WEBAPP_INSTANCE": "blue-2"}
        with ServerProcess(env=env) as server:
            self.assertEqual(server.get("/healthz").json()["version"], "2.3.4-canary")
            reply = server.get("/version")
            self.assertEqual(reply.json()["instance"], "blue-2")
            self.assertEqual(reply.headers["X-Webapp-Version"], "2.3.4-canary")

    def test_port_in_use_is_exit_1_with_a_clear_line(self) -> None:
        with ServerProcess() as first:
            exited = run_to_exit(args=("--port", str(first.port)))
        self.assertEqual(exited.returncode, 1)
        self.assertRegex(exited.stderr, rf"cannot listen on 127\.0\.0\.1:{first.port}: .+\n$")

    def test_access_log_has_one_line_per_request_and_can_be_off(self) -> None:
        with ServerProcess() as server:
            server.get("/version")
            server.request("POST", "/api/items", body=b"{}")
            # Each line is written by its request's thread just after the response is sent:
            # the lines may lag the replies, and two requests may log in either order.
            lines = wait_until(lambda: server.log_lines() if len(server.log_lines()) >= 2 else None)
        self.assertEqual(len(lines), 2, lines)
        line_shape = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z 127\.0\.0\.1 %s \d+\.\dms$"
        for request in ("GET /version 200", "POST /api/items 400"):
            self.assertTrue(any(re.match(line_shape % request, line) for line in lines), lines)
        with ServerProcess(env={"WEBAPP_ACCESS_LOG": "0"}) as server:
            server.get("/version")
            self.assertEqual(server.stop(), 0)
            lines = server.log_lines()
        self.assertEqual(
            [line.split(" ", 1)[1] for line in lines],
            ["SIGTERM received: draining", "stopped cleanly"],
        )


class BadValueTests(unittest.TestCase):
    """A bad value stops the process at once: exit 2 and one line naming the variable."""

    def test_bad_knob_values(self) -> None:
        cases = {
            "WEBAPP_SLOW_MS": ("fast", "must be a whole number of milliseconds, 0 or more"),
            "WEBAPP_SLOW_JITTER_MS": ("-5", "must be a whole number of milliseconds, 0 or more"),
            "WEBAPP_ERROR_RATE": ("1.5", "must be a number from 0 to 1, such as 0.25"),
            "WEBAPP_SEED": ("abc", "must be an integer"),
            "WEBAPP_CRASH_AFTER": ("0", "must be a whole number, 1 or more"),
            "WEBAPP_CRASH_ON_START": (
                "maybe",
                "must be one of 1, 0, true, false, yes, no, on, off",
            ),
            "WEBAPP_UNHEALTHY": ("2", "must be one of 1, 0, true, false, yes, no, on, off"),
            "WEBAPP_STARTUP_DELAY_MS": ("1.5", "must be a whole number of milliseconds, 0 or more"),
            "WEBAPP_DRAIN_SECONDS": ("-1", "must be a number of seconds, 0 or more"),
            "WEBAPP_VERSION": ("1.0\x01", "must be 1 to 128 printable ASCII characters"),
            "PORT": ("http", "must be a whole number"),
        }
        envs = [{name: value} for name, (value, _) in cases.items()]
        for (name, (value, reason)), exited in zip(
            cases.items(), run_all_to_exit(envs, args=()), strict=True
        ):
            with self.subTest(name=name):
                self.assertEqual(exited.returncode, 2)
                self.assertEqual(exited.stderr, f"webapp: invalid {name}={value!r}: {reason}\n")
                self.assertEqual(exited.stdout, "")

    def test_bad_port_option(self) -> None:
        exited = run_to_exit(args=("--port", "70000"))
        self.assertEqual(
            (exited.returncode, exited.stderr),
            (2, "webapp: invalid --port 70000: must be from 0 to 65535\n"),
        )
        exited = run_to_exit(args=("--port", "eighty"))
        self.assertEqual(exited.returncode, 2)
        self.assertIn("argument --port: invalid int value: 'eighty'", exited.stderr)


if __name__ == "__main__":
    unittest.main()
