"""Evaluations per second of a typical job ``if:``, with and without the parse cache.

Measures, on one core, the expression

    github.event_name == 'push' && contains(github.ref, 'refs/tags/') && matrix.os != 'windows'

four ways, and prints them beside the floor they are compared with: a plain Python lambda doing
the same comparisons. Each figure is the median of several repetitions; every repetition stops
after a fixed number of calls or a time limit, whichever comes first. Time is this process's CPU
time, so other work on the machine does not count against it.

Run: .venv/bin/python bench/bench_expressions.py [--quick]
"""

from __future__ import annotations

import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from shipyard import expressions
from shipyard.expressions import expression as expression_module

EXPRESSION = (
    "github.event_name == 'push' && contains(github.ref, 'refs/tags/') && matrix.os != 'windows'"
)
TARGET_PER_SECOND = 100_000

CONTEXTS: dict[str, Any] = {
    "github": {
        "event_name": "push",
        "ref": "refs/tags/v1.2.3",
        "sha": "2ce6b095f4cceb616efed52266e3e3c0367ba795",
        "repository": "monalisa/testing",
        "actor": "monalisa",
        "workflow": "CI",
        "run_id": "2827197126",
        "event": {"after": "2ce6b095", "before": "bbe29778", "commits": []},
    },
    "matrix": {"os": "ubuntu-latest", "python": "3.11"},
    "env": {"CI": "true"},
    "runner": {"os": "Linux", "arch": "X64"},
}


def _floor(contexts: dict[str, Any]) -> bool:
    github = contexts["github"]
    return (
        github["event_name"].upper() == "PUSH"
        and "REFS/TAGS/" in github["ref"].upper()
        and contexts["matrix"]["os"].upper() != "WINDOWS"
    )


def measure(
    call: Callable[[], object], *, repetitions: int, max_calls: int, max_seconds: float
) -> float:
    """Median CPU seconds per call over ``repetitions`` runs, each bounded in calls and in
    wall-clock time."""
    samples: list[float] = []
    batch = 200
    for _ in range(repetitions):
        calls = 0
        start = time.process_time()
        deadline = time.perf_counter() + max_seconds
        while calls < max_calls:
            for _ in range(batch):
                call()
            calls += batch
            if time.perf_counter() >= deadline:
                break
        samples.append((time.process_time() - start) / calls)
    return statistics.median(samples)


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    repetitions, max_calls, max_seconds = (3, 20_000, 0.2) if quick else (7, 200_000, 1.0)
    uncached_parse = expression_module.parse.__wrapped__
    parsed = expressions.parse(EXPRESSION)
    assert expressions.evaluate(EXPRESSION, CONTEXTS) is True
    assert _floor(CONTEXTS) is True

    def measured(call: Callable[[], object]) -> float:
        return measure(call, repetitions=repetitions, max_calls=max_calls, max_seconds=max_seconds)

    rows = [
        ("parse only (cache bypassed)", measured(lambda: uncached_parse(EXPRESSION))),
        ("evaluate only (parsed once)", measured(lambda: parsed.evaluate(CONTEXTS))),
        (
            "evaluate(text) with parse cache",
            measured(lambda: expressions.evaluate(EXPRESSION, CONTEXTS)),
        ),
        (
            "parse + evaluate, no cache",
            measured(lambda: uncached_parse(EXPRESSION).evaluate(CONTEXTS)),
        ),
        ("floor: Python lambda, same tests", measured(lambda: _floor(CONTEXTS))),
    ]
    print(f"expression: {EXPRESSION}")
    print(
        f"python {platform.python_version()} on {platform.machine()} "
        f"({platform.processor() or platform.system()}), one core, CPU time, "
        f"median of {repetitions}"
    )
    print(f"{'':36}{'per call':>12}{'calls/s':>14}")
    for label, seconds in rows:
        print(f"{label:36}{seconds * 1e6:>9.2f} us{1 / seconds:>14,.0f}")
    cached = 1 / rows[2][1]
    verdict = "meets" if cached >= TARGET_PER_SECOND else "MISSES"
    print(
        f"cached evaluation: {cached:,.0f}/s {verdict} the target of {TARGET_PER_SECOND:,}/s; "
        f"{rows[2][1] / rows[4][1]:.1f}x the lambda floor, "
        f"{rows[3][1] / rows[2][1]:.1f}x faster than parsing every time"
    )
    return 0 if cached >= TARGET_PER_SECOND else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
