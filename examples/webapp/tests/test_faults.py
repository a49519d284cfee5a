"""Fault decisions in-process: the error pattern, seeded draws, jitter bounds, crash counting."""

from __future__ import annotations

import math
import unittest
from fractions import Fraction

from webapp import faults, settings


def injector(**knobs: object) -> faults.FaultInjector:
    return faults.FaultInjector(settings.Faults(**knobs))  # type: ignore[arg-type]


class ErrorPatternTests(unittest.TestCase):
    def test_failures_are_spread_evenly_and_exactly(self) -> None:
        for rate in ("0", "0.01", "0.1", "0.25", "1/3", "0.5", "0.9", "1"):
            with self.subTest(rate=rate):
                chosen = injector(error_rate=Fraction(rate))
                outcomes = [chosen.should_fail() for _ in range(300)]
                for n in range(1, 301):
                    self.assertEqual(sum(outcomes[:n]), math.floor(n * Fraction(rate)))

    def test_quarter_fails_every_fourth(self) -> None:
        chosen = injector(error_rate=Fraction(1, 4))
        failed = [n for n in range(1, 13) if chosen.should_fail()]
        self.assertEqual(failed, [4, 8, 12])

    def test_seeded_draws_repeat_and_follow_the_rate(self) -> None:
        first = injector(error_rate=Fraction("0.2"), seed=3)
        second = injector(error_rate=Fraction("0.2"), seed=3)
        draws = [first.should_fail() for _ in range(2000)]
        self.assertEqual(draws, [second.should_fail() for _ in range(2000)])
        self.assertAlmostEqual(sum(draws) / len(draws), 0.2, delta=0.04)


class DelayTests(unittest.TestCase):
    def test_no_delay_by_default(self) -> None:
        self.assertEqual(injector().delay_seconds(), 0)

    def test_slow_plus_jitter_stays_in_bounds(self) -> None:
        chosen = injector(slow_ms=100, slow_jitter_ms=20, seed=1)
        delays = [chosen.delay_seconds() for _ in range(500)]
        self.assertTrue(all(0.1 <= delay <= 0.12 for delay in delays))
        self.assertGreater(len(set(delays)), 5)


class CrashCountTests(unittest.TestCase):
    def test_only_the_nth_request_is_the_last(self) -> None:
        chosen = injector(crash_after=3)
        self.assertEqual(
            [chosen.is_last_request() for _ in range(5)], [False, False, True, False, False]
        )

    def test_never_without_the_knob(self) -> None:
        chosen = injector()
        self.assertFalse(any(chosen.is_last_request() for _ in range(100)))


if __name__ == "__main__":
    unittest.main()
