"""Reading the settings and knobs from an environment mapping, in-process."""

from __future__ import annotations

import unittest
from fractions import Fraction

import webapp
from webapp import settings


class LoadSettingsTests(unittest.TestCase):
    def test_defaults(self) -> None:
        loaded = settings.load_settings({}, default_instance="host-1")
        self.assertEqual(
            loaded,
            settings.Settings(
                host="127.0.0.1",
                port=8000,
                version=webapp.__version__,
                instance="host-1",
                drain_seconds=10.0,
                access_log=True,
                faults=settings.Faults(),
            ),
        )

    def test_options_win_over_the_environment(self) -> None:
        environ = {"HOST": "0.0.0.0", "PORT": "9000"}
        self.assertEqual(settings.load_settings(environ).port, 9000)
        self.assertEqual(settings.load_settings(environ).host, "0.0.0.0")
        loaded = settings.load_settings(environ, host="::1", port=0)
        self.assertEqual((loaded.host, loaded.port), ("::1", 0))

    def test_every_knob(self) -> None:
        environ = {
            "WEBAPP_VERSION": "9.9.9",
            "WEBAPP_INSTANCE": "green-1",
            "WEBAPP_DRAIN_SECONDS": "2.5",
            "WEBAPP_ACCESS_LOG": "off",
            "WEBAPP_SLOW_MS": "100",
            "WEBAPP_SLOW_JITTER_MS": "50",
            "WEBAPP_ERROR_RATE": "1/3",
            "WEBAPP_SEED": "-4",
            "WEBAPP_CRASH_AFTER": "10",
            "WEBAPP_CRASH_ON_START": "yes",
            "WEBAPP_UNHEALTHY": "TRUE",
            "WEBAPP_STARTUP_DELAY_MS": " 1500 ",
        }
        loaded = settings.load_settings(environ)
        self.assertEqual((loaded.version, loaded.instance), ("9.9.9", "green-1"))
        self.assertEqual((loaded.drain_seconds, loaded.access_log), (2.5, False))
        self.assertEqual(
            loaded.faults,
            settings.Faults(
                slow_ms=100,
                slow_jitter_ms=50,
                error_rate=Fraction(1, 3),
                seed=-4,
                crash_after=10,
                crash_on_start=True,
                unhealthy=True,
                startup_delay_ms=1500,
            ),
        )

    def test_empty_values_count_as_unset(self) -> None:
        environ = {"WEBAPP_ERROR_RATE": "", "WEBAPP_SLOW_MS": "  ", "PORT": "", "HOST": ""}
        self.assertEqual(settings.load_settings(environ), settings.Settings(instance="webapp"))

    def test_invalid_values_name_the_variable(self) -> None:
        cases = [
            ("WEBAPP_ERROR_RATE", "-0.1", "must be a number from 0 to 1, such as 0.25"),
            ("WEBAPP_ERROR_RATE", "nan", "must be a number from 0 to 1, such as 0.25"),
            ("WEBAPP_ERROR_RATE", "1/0", "must be a number from 0 to 1, such as 0.25"),
            ("WEBAPP_DRAIN_SECONDS", "inf", "must be a number of seconds, 0 or more"),
            ("WEBAPP_SLOW_MS", "١٢", "must be a whole number of milliseconds, 0 or more"),
            ("WEBAPP_INSTANCE", "x" * 129, "must be 1 to 128 printable ASCII characters"),
            ("WEBAPP_VERSION", "1.0\n", None),
            ("PORT", "65536", "must be from 0 to 65535"),
        ]
        for name, value, reason in cases:
            with self.subTest(name=name, value=value):
                environ = {name: value}
                if reason is None:  # surrounding whitespace is trimmed, so this one is valid
                    self.assertEqual(settings.load_settings(environ).version, "1.0")
                    continue
                with self.assertRaises(settings.SettingsError) as caught:
                    settings.load_settings(environ)
                self.assertEqual(str(caught.exception), f"invalid {name}={value!r}: {reason}")

    def test_port_option_out_of_range(self) -> None:
        with self.assertRaises(settings.SettingsError) as caught:
            settings.load_settings({}, port=-1)
        self.assertEqual(str(caught.exception), "invalid --port -1: must be from 0 to 65535")


if __name__ == "__main__":
    unittest.main()
