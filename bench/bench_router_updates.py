"""Route-table updates under load: 100 updates while wrk keeps 50 keep-alive connections busy,
beside the same load with no update. Zero failed requests is the requirement.

Two nginx servers stand for two releases of an app. During the loaded run, the route table is
replaced 100 times (weights moving between the releases, and back), each through the control
socket as the server would do it. Printed: failed requests (socket errors and non-2xx
responses), requests/s and p50/p99 latency with and without updates, and how long an update
takes to apply (median and worst). Every run is bounded in time; traffic stays on 127.0.0.1.

Run: .venv/bin/python bench/bench_router_updates.py [--quick]. Exits 1 when a request failed.
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import bench_router_throughput as common
from shipyard.runtime.router import routes

UPDATES = 100


def main(argv: list[str]) -> int:
    seconds = 6.0 if "--quick" in argv else 12.0
    common.exit_on_sigterm()
    common.ensure_tools("nginx", "wrk", "taskset")
    print(f"Router: {UPDATES} route-table updates under load (wrk, {common.CONNECTIONS} keep-alive "
          f"connections, {seconds:g} s per run)")  # fmt: skip
    print(common.machine())
    with tempfile.TemporaryDirectory(prefix="bench-router-") as tmp:
        workdir = Path(tmp)
        workdir.chmod(0o755)  # nginx's worker (nobody) reads the files below
        with contextlib.ExitStack() as stack:
            blue_dir = workdir / "blue"
            green_dir = workdir / "green"
            blue_dir.mkdir()
            green_dir.mkdir()
            blue = stack.enter_context(common.nginx(blue_dir))
            green = stack.enter_context(common.nginx(green_dir))
            router = stack.enter_context(common.router(workdir, None, 1, None))
            instances = (
                routes.Instance(f"127.0.0.1:{blue}", "blue-1"),
                routes.Instance(f"127.0.0.1:{green}", "green-1"),
            )

            def table(version: int, blue_weight: int) -> routes.RouteTable:
                return router.table(
                    version,
                    routes.UpstreamGroup("blue", blue_weight, (instances[0],)),
                    routes.UpstreamGroup("green", 100 - blue_weight, (instances[1],)),
                )

            router.client.apply_routes(table(1, 100))
            common.wait_listening(router.port)
            common.wrk(router.port, 1, close=False)  # warm up
            quiet = common.wrk(router.port, seconds, close=False)

            apply_seconds: list[float] = []
            failures: list[str] = []

            def update() -> None:
                time.sleep(0.5)
                pause = (seconds - 1.5) / UPDATES
                for step in range(UPDATES):
                    weight = abs(100 - (step * 20) % 200)  # 100, 80, ..., 0, ..., 100
                    started = time.perf_counter()
                    try:
                        router.client.apply_routes(table(step + 2, weight))
                    except Exception as exc:
                        failures.append(repr(exc))
                    apply_seconds.append(time.perf_counter() - started)
                    time.sleep(pause)

            updater = threading.Thread(target=update)
            updater.start()
            loaded = common.wrk(router.port, seconds, close=False)
            updater.join(timeout=seconds + 30)
            stats = router.client.stats()
    served = {row.release_id: row.requests for row in stats.signals if row.release_id}
    print(f"  updates applied: {len(apply_seconds) - len(failures)} of {UPDATES}, "
          f"failed: {len(failures)} {failures[:3]}")  # fmt: skip
    print(
        f"  apply time: median {statistics.median(apply_seconds) * 1000:.1f} ms, "
        f"max {max(apply_seconds) * 1000:.1f} ms"
    )
    print(f"  {'run':<16} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'failed requests':>16}")
    for name, load in (("no updates", quiet), ("100 updates", loaded)):
        print(
            f"  {name:<16} {load.requests_per_second:>8.0f} {load.p50_ms:>8.2f} "
            f"{load.p99_ms:>8.2f} {load.errors:>16}"
        )
    print(f"  requests per release over both runs: {served}")
    ok = loaded.errors == 0 and not failures and len(apply_seconds) == UPDATES
    print(f"  zero failed requests during {UPDATES} updates -> {'pass' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
