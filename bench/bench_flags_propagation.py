"""Propagation: how long after a flag change an in-process provider polling the server has it.

A Shipyard server is started on a fresh SHIPYARD_HOME with flags published; a ``ShipyardProvider``
(url=, token=, environment=) polls the environment's flags document with ``If-None-Match`` every
``--interval`` seconds (default 0.5, the provider's default). Each round flips a flag's default
variant through the admin API and measures, on one clock, the time from the change being sent to
the provider's ``PROVIDER_CONFIGURATION_CHANGED`` event, after which ``get_string_value`` answers
the new value (checked). Beside it, the same change seen by an OFREP request sent just after the
API answered (the server side alone, the baseline). Target: a change reaches the polling provider
within 1 s (the worst round).

Run: .venv/bin/python bench/bench_flags_propagation.py [--quick] [--interval SECONDS]
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common
from bench_flags_ofrep import start_server, stop_server
from shipyard.store import serverinfo

TARGET_SECONDS = 1.0
DOCUMENT = {
    "flags": {
        "banner": {"state": "ENABLED", "variants": {"a": "A", "b": "B"}, "defaultVariant": "a"},
        "static": {"state": "ENABLED", "variants": {"on": True}, "defaultVariant": "on"},
    }
}


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    interval = float(argv[argv.index("--interval") + 1]) if "--interval" in argv else 0.5
    rounds, budget = (5, 60.0) if quick else (20, 180.0)
    with _common.scratch("flags-propagation") as scratch:
        home = _common.fresh_home(scratch)
        info = start_server(home)
        try:
            return measure(info, interval, rounds, budget)
        finally:
            stop_server(home)


def measure(info: serverinfo.ServerInfo, interval: float, rounds: int, budget: float) -> int:
    from openfeature import api
    from openfeature.event import EventDetails, ProviderEvent

    from shipyard.flags.openfeature import ShipyardProvider

    admin = {"Authorization": f"Bearer {info.token}"}
    http = httpx.Client(base_url=info.url, timeout=30)
    http.put("/api/v1/flags/bench", json={"document": DOCUMENT}, headers=admin).raise_for_status()
    made = http.post("/api/v1/flags/bench/tokens", json={"name": "bench"}, headers=admin)
    token = made.json()["token"]
    provider = ShipyardProvider(url=info.url, token=token, environment="bench", interval=interval)
    changed = threading.Event()
    arrived: list[float] = []

    def on_change(details: EventDetails) -> None:
        arrived.append(time.perf_counter())
        changed.set()

    client = api.get_client("propagation")
    client.add_handler(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, on_change)
    api.set_provider_and_wait(provider, "propagation")
    provider_delays: list[float] = []
    ofrep_delays: list[float] = []
    deadline = time.monotonic() + budget
    try:
        for index in range(rounds):
            variant = "b" if index % 2 == 0 else "a"
            time.sleep(interval * 0.37 * (index % 3))  # changes land at varied points of a poll
            changed.clear()
            sent = time.perf_counter()
            change = {"action": "set-default", "variant": variant}
            http.post(
                "/api/v1/flags/bench/banner/changes", headers=admin, json=change
            ).raise_for_status()
            seen = http.post("/ofrep/v1/evaluate/flags/banner", json={},
                             headers={"Authorization": f"Bearer {token}"})  # fmt: skip
            if seen.json().get("variant") != variant:
                return _common.fail(f"OFREP still answered {seen.text} after the change")
            ofrep_delays.append(time.perf_counter() - sent)
            if not changed.wait(10):
                return _common.fail("the provider never announced the change")
            provider_delays.append(arrived[-1] - sent)
            expected = "B" if variant == "b" else "A"
            if client.get_string_value("banner", "?") != expected:
                return _common.fail("the provider announced a change it does not serve")
            if time.monotonic() > deadline:
                break
    finally:
        provider.shutdown()
        http.close()
    print(
        f"flag change -> polling ShipyardProvider (interval {interval:g} s), "
        f"{len(provider_delays)} changes"
    )
    print(_common.machine())
    rows = [
        (name, _common.seconds(statistics.median(values)), _common.seconds(max(values)))
        for name, values in (
            ("OFREP request after the change (baseline)", ofrep_delays),
            ("polling provider: CONFIGURATION_CHANGED", provider_delays),
        )
    ]
    print(_common.table(["case", "median", "worst"], rows))
    worst = max(provider_delays)
    passed = worst <= TARGET_SECONDS
    print(
        f"worst propagation {worst:.3f} s (target <= {TARGET_SECONDS:g} s): "
        f"{_common.verdict(passed)}"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except _common.BenchError as error:
        sys.exit(_common.fail(str(error)))
