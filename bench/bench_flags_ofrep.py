"""OFREP single-flag evaluations per second against a real server on loopback, with p50 and p99.

A Shipyard server is started on a fresh SHIPYARD_HOME, flags are published and a flag token is
made; then one keep-alive HTTP client sends requests one after another (no concurrency), in
interleaved rounds:

- ``OFREP static flag``: ``POST /ofrep/v1/evaluate/flags/static`` with a targeting key.
- ``OFREP fractional in a condition``: the same for a flag whose targeting is a fractional split
  inside an ``if`` (a different targeting key each request).
- ``GET /api/v1/status`` (baseline): the server's cheapest route (admin token, no flags, no
  database), so the difference is what flag evaluation over OFREP costs on top of the HTTP stack.

Rates are requests per second of wall time; latencies are per request, p50 and p99 over all the
rounds. Each round is a fixed number of requests and the run is bounded in time.

Run: .venv/bin/python bench/bench_flags_ofrep.py [--quick]
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common
from shipyard.store import serverinfo

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


def start_server(home: Path) -> serverinfo.ServerInfo:
    env = {**_common.shipyard_env(home), "SHIPYARD_SERVER_PORT": "0"}
    done = subprocess.run(
        [*_common.shipyard_command(), "server", "start"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    info = serverinfo.read(home)
    if done.returncode != 0 or info is None:
        raise _common.BenchError(f"the server did not start: {done.stderr.strip()}")
    return info


def stop_server(home: Path) -> None:
    env = _common.shipyard_env(home)
    subprocess.run([*_common.shipyard_command(), "server", "stop"], env=env, capture_output=True,
                   timeout=120, check=False)  # fmt: skip


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    count, rounds, budget = (500, 3, 60.0) if quick else (3000, 5, 240.0)
    with _common.scratch("flags-ofrep") as scratch:
        home = _common.fresh_home(scratch)
        info = start_server(home)
        try:
            return measure(info, count, rounds, budget)
        finally:
            stop_server(home)


def measure(info: serverinfo.ServerInfo, count: int, rounds: int, budget: float) -> int:
    admin = {"Authorization": f"Bearer {info.token}"}
    with httpx.Client(base_url=info.url, timeout=30) as http:
        published = http.put("/api/v1/flags/bench", json={"document": DOCUMENT}, headers=admin)
        made = http.post("/api/v1/flags/bench/tokens", json={"name": "bench"}, headers=admin)
        if published.status_code != 200 or made.status_code != 200:
            return _common.fail(f"cannot publish flags: {published.text} {made.text}")
        flag_headers = {"Authorization": f"Bearer {made.json()['token']}"}
        bodies = [json.dumps({"context": {"targetingKey": f"user-{i}",
                                          "email": f"user-{i}@example.com"}}).encode()
                  for i in range(1024)]  # fmt: skip
        headers = {**flag_headers, "Content-Type": "application/json"}

        def ofrep(key: str) -> Callable[[int], None]:
            def send(i: int) -> None:
                answer = http.post(f"/ofrep/v1/evaluate/flags/{key}", content=bodies[i & 1023],
                                   headers=headers)  # fmt: skip
                if answer.status_code != 200:
                    raise _common.BenchError(f"OFREP answered {answer.status_code}: {answer.text}")

            return send

        def status(i: int) -> None:
            answer = http.get("/api/v1/status", headers=admin)
            if answer.status_code != 200:
                raise _common.BenchError(f"status answered {answer.status_code}")

        cases = {
            "GET /api/v1/status (baseline)": status,
            "OFREP static flag": ofrep("static"),
            "OFREP fractional in a condition": ofrep("rollout"),
        }
        for send in cases.values():  # warm up connections and caches
            for i in range(50):
                send(i)
        latencies: dict[str, list[float]] = {name: [] for name in cases}
        rates: dict[str, list[float]] = {name: [] for name in cases}
        names = list(cases)
        deadline = time.monotonic() + budget
        for index in range(rounds):
            shift = index % len(names)
            for name in names[shift:] + names[:shift]:
                send = cases[name]
                started = time.perf_counter()
                for i in range(count):
                    before = time.perf_counter()
                    send(i)
                    latencies[name].append(time.perf_counter() - before)
                rates[name].append(count / (time.perf_counter() - started))
            if time.monotonic() > deadline:
                break
    print(
        f"OFREP over loopback, one keep-alive client, sequential requests, {count} per round, "
        f"median of {len(rates[names[0]])} rounds"
    )
    print(_common.machine())
    rows = [
        (name, f"{statistics.median(rates[name]):,.0f}/s",
         f"{percentile(latencies[name], 0.5) * 1000:.2f} ms",
         f"{percentile(latencies[name], 0.99) * 1000:.2f} ms")
        for name in names
    ]  # fmt: skip
    print(_common.table(["case", "requests", "p50", "p99"], rows))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except _common.BenchError as error:
        sys.exit(_common.fail(str(error)))
