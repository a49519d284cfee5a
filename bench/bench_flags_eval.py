"""In-process flag evaluations per second on one core: a static flag and a fractional rule inside
a condition, beside a plain dict lookup and beside the same flags through the OpenFeature SDK.

Cases, measured in the same run with rounds interleaved (the order rotates each round):

- ``dict lookup``: ``variants[flags[key]["defaultVariant"]]``, the floor any evaluator sits on.
- ``static flag``: ``shipyard.flags.evaluator.evaluate`` of a flag without targeting. The figure;
  target at least 200,000/s.
- ``fractional in a condition``: ``{"if": [{"ends_with": [email, "@example.com"]},
  {"fractional": [["on", 5], ["off", 95]]}, "off"]}`` for a different targeting key each time
  (rules are compiled when flags load). The figure; target at least 50,000/s.
- ``... via OpenFeature SDK``: the same two flags through ``client.get_boolean_value`` with
  ``ShipyardProvider`` (the SDK's hooks, context merging and details objects on top).

The process is pinned to one CPU; a rate is evaluations per second of this process's CPU time,
the median of the rounds; each round is a fixed number of evaluations, the run bounded in time.

Run: .venv/bin/python bench/bench_flags_eval.py [--quick]
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common
from shipyard.flags import definitions, evaluator

TARGET_STATIC = 200_000
TARGET_FRACTIONAL = 50_000
DOCUMENT = {
    "flags": {
        "static": {"state": "ENABLED", "variants": {"on": True, "off": False},
                   "defaultVariant": "on"},
        "rollout": {"state": "ENABLED", "variants": {"on": True, "off": False},
                    "defaultVariant": "off",
                    "targeting": {"if": [{"ends_with": [{"var": "email"}, "@example.com"]},
                                         {"fractional": [["on", 5], ["off", 95]]}, "off"]}},
    }
}  # fmt: skip


def rate(run: Callable[[int], object], count: int) -> float:
    started = time.process_time()
    run(count)
    return count / (time.process_time() - started)


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    count, rounds, budget = (20_000, 3, 30.0) if quick else (200_000, 5, 180.0)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    flags = definitions.load_document(DOCUMENT, "bench.json")
    if flags.problems:
        return _common.fail(f"the bench flags do not load: {flags.problems[0]}")
    contexts = [
        {"targetingKey": f"user-{i}", "email": f"user-{i}@example.com"} for i in range(1024)
    ]
    raw = DOCUMENT["flags"]

    def dict_lookup(n: int) -> None:
        for _ in range(n):
            flag = raw["static"]
            flag["variants"][flag["defaultVariant"]]

    def static(n: int) -> None:
        for _ in range(n):
            evaluator.evaluate(flags, "static")

    def fractional(n: int) -> None:
        for i in range(n):
            evaluator.evaluate(flags, "rollout", contexts[i & 1023])

    from openfeature import api
    from openfeature.evaluation_context import EvaluationContext

    from shipyard.flags.openfeature import ShipyardProvider

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "flags.json"
        path.write_text(json.dumps(DOCUMENT))
        provider = ShipyardProvider(path=path, interval=3600)
        api.set_provider_and_wait(provider, "bench")
        client = api.get_client("bench")
        sdk_contexts = [
            EvaluationContext(c["targetingKey"], {"email": c["email"]}) for c in contexts
        ]

        def sdk_static(n: int) -> None:
            for _ in range(n):
                client.get_boolean_value("static", False)

        def sdk_fractional(n: int) -> None:
            for i in range(n):
                client.get_boolean_value("rollout", False, sdk_contexts[i & 1023])

        cases: dict[str, tuple[Callable[[int], object], int]] = {
            "dict lookup (baseline)": (dict_lookup, count * 5),
            "static flag": (static, count),
            "fractional in a condition": (fractional, count),
            "static flag via OpenFeature SDK": (sdk_static, count // 10),
            "fractional via OpenFeature SDK": (sdk_fractional, count // 10),
        }
        results: dict[str, list[float]] = {name: [] for name in cases}
        names = list(cases)
        deadline = time.monotonic() + budget
        for index in range(rounds):
            shift = index % len(names)
            for name in names[shift:] + names[:shift]:
                run, n = cases[name]
                results[name].append(rate(run, n))
            if time.monotonic() > deadline:
                break
        provider.shutdown()
    medians = {name: statistics.median(values) for name, values in results.items()}
    print(
        f"in-process flag evaluations, one CPU, CPU time, median of {len(results[names[0]])} rounds"
    )
    print(_common.machine())
    base = medians["dict lookup (baseline)"]
    rows = [
        (name, f"{value:,.0f}/s", f"{1e6 / value:.2f} us", f"{base / value:.1f}x")
        for name, value in medians.items()
    ]
    print(_common.table(["case", "evaluations", "each", "vs dict lookup"], rows))
    static_ok = medians["static flag"] >= TARGET_STATIC
    fractional_ok = medians["fractional in a condition"] >= TARGET_FRACTIONAL
    print(
        f"static flag {medians['static flag']:,.0f}/s (target >= {TARGET_STATIC:,}): "
        f"{_common.verdict(static_ok)}"
    )
    print(
        f"fractional in a condition {medians['fractional in a condition']:,.0f}/s "
        f"(target >= {TARGET_FRACTIONAL:,}): {_common.verdict(fractional_ok)}"
    )
    return 0 if static_ok and fractional_ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
