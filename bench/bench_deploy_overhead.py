"""Deploy overhead: a blue-green deploy of 2 replicas, minus the app's own time to get ready.

The app is made to take a second to start (``WEBAPP_STARTUP_DELAY_MS=1000``). Baseline, in the
same run: the app's own readiness time for 2 replicas — the same command with the same
environment, two processes started by hand at once, timed from spawn until both ``/readyz``
answer 200 (polled every 10 ms). Figure: the rollout on the server (from the deploy's
start to its end, as recorded in its history) of ``shipyard deploy staging --release ID`` for a
release already built, with the strategy's defaults (the previous release is kept warm; one kept
warm by the round before is stopped once the deploy is done). Overhead = deploy time − readiness
time, medians over interleaved rounds. The command's own wall time (its start-up, the API call,
following the events) is printed beside it. Target: ≤ 1 s. Bounded: 7 rounds, 5 minutes.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time

import _deploy_common as common

ROUNDS = 7
BUDGET = 5 * 60.0
STARTUP = ", WEBAPP_STARTUP_DELAY_MS: 1000"


def readiness_time(app: common.App, replicas: int = 2) -> float:
    """Spawn ``replicas`` app processes at once, as a deploy does, and time them until every
    one's /readyz answers 200."""
    processes = []
    pending = set()
    started = time.monotonic()
    for _ in range(replicas):
        port = common.free_port()
        env = {
            **os.environ,
            "PORT": str(port),
            "WEBAPP_STARTUP_DELAY_MS": "1000",
            "WEBAPP_ACCESS_LOG": "0",
            "WEBAPP_VERSION": "baseline",
        }
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "webapp"],
                cwd=app.repo,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
        pending.add(port)
    try:
        while pending and time.monotonic() - started < 30:
            for port in list(pending):
                if _ready(port):
                    pending.discard(port)
            time.sleep(0.01)
        if pending:
            raise RuntimeError("the app did not get ready in 30 s")
        return time.monotonic() - started
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


def _ready(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", "/readyz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def main() -> int:
    print(f"machine: {common.machine()}")
    started = time.monotonic()
    ready: list[float] = []
    deploys: list[float] = []
    server_side: list[float] = []
    cli_floor: list[float] = []
    with common.scratch_app("blue-green", env=STARTUP) as app:
        releases = [app.release(f"v{index}") for index in range(1, ROUNDS + 1)]
        for index, release in enumerate(releases):
            if time.monotonic() - started > BUDGET:
                break
            order = ("ready", "deploy") if index % 2 == 0 else ("deploy", "ready")
            for case in order:
                if case == "ready":
                    ready.append(readiness_time(app))
                    continue
                seconds, out, err, status = app.deploy(release)
                if status != 0:
                    print(f"deploy failed: {err or out}")
                    return 1
                deploys.append(seconds)
                listing, _, _, _ = app.cli("deploys", "staging", "-n", "1")
                cli_floor.append(listing)
                record = common.api(app.home, "GET", "/api/v1/environments/staging/deploys")
                latest = record.json()[0]
                server_side.append(latest["finished_at"] - latest["started_at"])
    overheads = [d - r for d, r in zip(deploys, ready, strict=False)]
    rollout_overheads = [d - r for d, r in zip(server_side, ready, strict=False)]
    overhead = common.median(rollout_overheads)
    print()
    print(f"{'':<48} {'median':>8} {'min':>8} {'max':>8}")
    for label, values in (
        ("baseline: the app's own readiness (2 replicas)", ready),
        ("rollout on the server (blue-green, 2 replicas)", server_side),
        ("`shipyard deploy` end to end (CLI included)", deploys),
        ("overhead of the rollout (rollout − readiness)", rollout_overheads),
        ("overhead end to end (command − readiness)", overheads),
        ("a command's own floor: `shipyard deploys`", cli_floor),
    ):
        print(
            f"{label:<48} {common.median(values):>7.2f}s {min(values):>7.2f}s {max(values):>7.2f}s"
        )
    verdict = "PASS" if overhead <= 1.0 else "MISS"
    print()
    print(
        f"{verdict}: the rollout takes {overhead:.2f} s above the app's readiness (target ≤ 1 s); "
        f"end to end through the command line {common.median(overheads):.2f} s "
        f"({len(deploys)} rounds)"
    )
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
