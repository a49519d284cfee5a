"""/metrics: the exposition format written by hand, checked by parsing it back."""

from __future__ import annotations

import time
import unittest

import webapp
from exposition import Exposition, FormatError, check_histogram, parse_exposition
from server_process import ServerProcess
from webapp import metrics


class RenderingTests(unittest.TestCase):
    """The metrics module in-process: exact text for each kind of family."""

    def test_counter_gauge_and_histogram_render_exactly(self) -> None:
        registry = metrics.Registry()
        requests = registry.register(metrics.Counter("hits_total", "Hits.", ("path",)))
        registry.register(metrics.CallbackGauge("up", "Up.", lambda: 1, labels={"version": "1.2"}))
        busy = registry.register(metrics.Gauge("busy", "Busy.", ("path",)))
        busy.inc(("/x",), 3)
        busy.dec(("/x",))
        durations = registry.register(metrics.Histogram("took_seconds", "Took.", (), (0.1, 1)))
        requests.inc(("/b",))
        requests.inc(("/a",), 2)
        for seconds in (0.05, 0.1, 0.5, 3.0):
            durations.observe(seconds)
        self.assertEqual(
            registry.render(),
            "# HELP hits_total Hits.\n"
            "# TYPE hits_total counter\n"
            'hits_total{path="/a"} 2\n'
            'hits_total{path="/b"} 1\n'
            "# HELP up Up.\n"
            "# TYPE up gauge\n"
            'up{version="1.2"} 1\n'
            "# HELP busy Busy.\n"
            "# TYPE busy gauge\n"
            'busy{path="/x"} 2\n'
            "# HELP took_seconds Took.\n"
            "# TYPE took_seconds histogram\n"
            'took_seconds_bucket{le="0.1"} 2\n'
            'took_seconds_bucket{le="1.0"} 3\n'
            'took_seconds_bucket{le="+Inf"} 4\n'
            "took_seconds_sum 3.65\n"
            "took_seconds_count 4\n",
        )

    def test_label_values_and_help_are_escaped(self) -> None:
        registry = metrics.Registry()
        counter = registry.register(
            metrics.Counter("c_total", 'Back\\slash and\nnewline "q".', ("l",))
        )
        counter.inc(('a "quoted" \\ value\nwith a newline',))
        text = registry.render()
        self.assertIn('# HELP c_total Back\\\\slash and\\nnewline "q".\n', text)
        self.assertIn('c_total{l="a \\"quoted\\" \\\\ value\\nwith a newline"} 1\n', text)
        parsed = parse_exposition(text)
        self.assertEqual(parsed.value("c_total", l='a "quoted" \\ value\nwith a newline'), 1)

    def test_values_are_formatted_as_the_format_expects(self) -> None:
        self.assertEqual(metrics.format_value(3), "3")
        self.assertEqual(metrics.format_value(2.0), "2")
        self.assertEqual(metrics.format_value(0.25), "0.25")
        self.assertEqual(metrics.format_value(float("inf")), "+Inf")
        self.assertEqual(metrics.format_value(float("-inf")), "-Inf")
        self.assertEqual(metrics.format_value(float("nan")), "NaN")

    def test_misuse_is_refused(self) -> None:
        counter = metrics.Counter("c_total", "C.", ("a",))
        with self.assertRaises(ValueError):
            counter.inc(("x",), -1)
        with self.assertRaises(ValueError):
            counter.inc(("x", "y"))
        with self.assertRaises(ValueError):
            metrics.Histogram("h", "H.", ("le",))
        with self.assertRaises(ValueError):
            metrics.Histogram("h", "H.", (), (1, 0.5))
        registry = metrics.Registry()
        registry.register(counter)
        with self.assertRaises(ValueError):
            registry.register(metrics.Counter("c_total", "Again."))

    def test_the_strict_reader_rejects_what_the_format_forbids(self) -> None:
        bad = [
            "x 1",  # no trailing newline
            "x 1\n",  # no HELP/TYPE
            "# HELP x X.\nx 1\n",  # no TYPE
            "# HELP x X.\n# TYPE x counter\nx{a=1} 1\n",  # unquoted label value
            "# HELP x X.\n# TYPE x counter\nx 1_000\n",  # not a number in the format
            "# HELP x X.\n# TYPE x counter\ny 1\n",  # sample outside its family
        ]
        for text in bad:
            with self.subTest(text=text), self.assertRaises(FormatError):
                parse_exposition(text)


class MetricsEndpointTests(unittest.TestCase):
    """/metrics of a running app."""

    server: ServerProcess

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = ServerProcess().start()
        cls.addClassCleanup(cls.server.close)

    def scrape(self) -> Exposition:
        reply = self.server.get("/metrics")
        self.assertEqual(reply.status, 200)
        self.assertEqual(reply.headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
        return parse_exposition(reply.body.decode("utf-8"))

    def test_families_and_their_types(self) -> None:
        families = self.scrape().families
        kinds = {name: family.kind for name, family in families.items()}
        self.assertEqual(
            kinds,
            {
                "http_requests_total": "counter",
                "http_request_duration_seconds": "histogram",
                "http_requests_in_flight": "gauge",
                "process_start_time_seconds": "gauge",
                "webapp_build_info": "gauge",
            },
        )
        for family in families.values():
            self.assertTrue(family.help_text, family.name)

    def test_request_counter_increases(self) -> None:
        labels = {"method": "GET", "path": "/version", "status": "200"}
        before = self.scrape().value("http_requests_total", **labels) or 0
        for _ in range(3):
            self.server.get("/version")
        self.assertEqual(self.scrape().value("http_requests_total", **labels), before + 3)

    def test_status_and_unknown_paths_are_labelled(self) -> None:
        self.server.get("/no-such-page")
        self.server.get("/api/items/17")
        self.server.request("POST", "/api/items", body=b"oops")
        scrape = self.scrape()
        for method, path, status in [
            ("GET", "other", "404"),
            ("GET", "/api/items/{id}", "404"),
            ("POST", "/api/items", "400"),
        ]:
            with self.subTest(path=path):
                labels = {"method": method, "path": path, "status": status}
                self.assertGreaterEqual(scrape.value("http_requests_total", **labels) or 0, 1)

    def test_histogram_is_cumulative_and_counts_every_request(self) -> None:
        for _ in range(2):
            self.server.get("/slow?ms=30")
        scrape = self.scrape()
        check_histogram(scrape.families["http_request_duration_seconds"])
        labels = {"method": "GET", "path": "/slow"}
        name = "http_request_duration_seconds"
        self.assertEqual(scrape.value(f"{name}_count", **labels), 2)
        self.assertEqual(scrape.value(f"{name}_bucket", le="0.025", **labels), 0)
        self.assertEqual(scrape.value(f"{name}_bucket", le="+Inf", **labels), 2)
        self.assertGreaterEqual(scrape.value(f"{name}_sum", **labels) or 0, 0.06)

    def test_process_gauges(self) -> None:
        scrape = self.scrape()
        started = scrape.value("process_start_time_seconds")
        self.assertIsNotNone(started)
        self.assertLess(abs(time.time() - (started or 0)), 120)
        self.assertEqual(scrape.value("webapp_build_info", version=webapp.__version__), 1)
        # The scrape itself is in flight while the page is written.
        self.assertGreaterEqual(scrape.value("http_requests_in_flight", path="/metrics") or 0, 1)


class BuildInfoEscapingTests(unittest.TestCase):
    """A version with quotes and backslashes survives the trip through the text format."""

    def test_version_label_round_trips(self) -> None:
        version = '2.0-"rc"\\1'
        with ServerProcess(env={"WEBAPP_VERSION": version}) as server:
            reply = server.get("/metrics")
            text = reply.body.decode()
            self.assertIn('webapp_build_info{version="2.0-\\"rc\\"\\\\1"} 1\n', text)
            self.assertEqual(parse_exposition(text).value("webapp_build_info", version=version), 1)
            self.assertEqual(server.get("/healthz").json()["version"], version)


if __name__ == "__main__":
    unittest.main()
