"""Rollback to a warm release: how long until 100% of the traffic is back on it.

A blue-green deploy keeps the previous release warm; a rollback then only switches the route.
Four keep-alive clients poll ``/version`` continuously and record when each request started and
which release answered. The figure is the time from the rollback request to the server's API
(``POST /api/v1/environments/staging/rollback``, what ``shipyard rollback`` sends) until the
first request after which every request is answered by the old release. Baseline, same run: a
cold rollback (the previous release was not kept warm, ``keep_previous=0``, so it is started
again with the same strategy). Medians of 5 rounds each, interleaved. Target: warm ≤ 1 s.
Bounded: 10 rollbacks, 5 minutes.
"""

from __future__ import annotations

import http.client
import sys
import threading
import time

import _deploy_common as common

ROUNDS = 5
BUDGET = 5 * 60.0


class Poller:
    """Keep-alive clients recording (request start, version), bounded in time."""

    def __init__(self, port: int, threads: int = 4, max_seconds: float = 60.0) -> None:
        self.port = port
        self.seen: list[tuple[float, str]] = []
        self.failures = 0
        self._stop = threading.Event()
        self._deadline = time.monotonic() + max_seconds
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]
        for thread in self._threads:
            thread.start()

    def _run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        while not self._stop.is_set() and time.monotonic() < self._deadline:
            began = time.monotonic()
            try:
                conn.request("GET", "/version")
                response = conn.getresponse()
                response.read()
                self.seen.append((began, response.getheader("X-Webapp-Version") or ""))
                if response.status != 200:
                    self.failures += 1
            except (OSError, http.client.HTTPException):
                self.failures += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            time.sleep(0.002)
        conn.close()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)


def back_within(seen: list[tuple[float, str]], since: float, old: str) -> float:
    """Seconds from ``since`` to the start of the first request after which all are ``old``."""
    last_other = since
    for began, version in sorted(seen):
        if began >= since and version != old:
            last_other = began
    after = [began for began, version in sorted(seen) if began > last_other and version == old]
    return (after[0] if after else float("inf")) - since


def one_rollback(app: common.App, release: str, old: str, *, warm: bool) -> float:
    keep = "10m" if warm else "0"
    _, out, err, status = app.deploy(
        release, "--strategy", "blue-green", "--setting", f"keep_previous={keep}"
    )
    if status != 0:
        raise RuntimeError(f"deploy failed: {err or out}")
    poller = Poller(app.port)
    time.sleep(0.3)
    since = time.monotonic()
    answer = common.api(app.home, "POST", "/api/v1/environments/staging/rollback", json={})
    if answer.status_code != 200:
        raise RuntimeError(f"rollback refused: {answer.text}")
    deploy_id = answer.json()["deploy"]["id"]
    record: dict[str, object] = {}
    while time.monotonic() - since < 60:
        record = common.api(app.home, "GET", f"/api/v1/deploys/{deploy_id}").json()
        if record["status"] not in ("queued", "running", "paused"):
            break
        time.sleep(0.05)
    time.sleep(0.3)
    poller.stop()
    if record.get("status") != "succeeded" or poller.failures:
        raise RuntimeError(f"rollback failed ({poller.failures} failed requests): {record}")
    return back_within(poller.seen, since, old)


def main() -> int:
    print(f"machine: {common.machine()}")
    started = time.monotonic()
    warm: list[float] = []
    cold: list[float] = []
    with common.scratch_app("blue-green") as app:
        base = app.release("base")
        _, out, err, status = app.deploy(base)
        if status != 0:
            print(f"deploy failed: {err or out}")
            return 1
        bad = [app.release(f"bad{index}") for index in range(ROUNDS)]
        for index, release in enumerate(bad):
            if time.monotonic() - started > BUDGET:
                break
            order = (True, False) if index % 2 == 0 else (False, True)
            for is_warm in order:
                seconds = one_rollback(app, release, "base", warm=is_warm)
                (warm if is_warm else cold).append(seconds)
    print()
    print(f"{'':<46} {'median':>8} {'max':>8}")
    for label, values in (
        ("warm rollback: 100% of traffic back after", warm),
        ("baseline: cold rollback (redeploy), same run", cold),
    ):
        print(f"{label:<46} {common.median(values):>7.3f}s {max(values):>7.3f}s")
    verdict = "PASS" if common.median(warm) <= 1.0 else "MISS"
    print()
    print(
        f"{verdict}: warm rollback {common.median(warm):.3f} s (target ≤ 1 s), "
        f"{len(warm)} rounds, 0 failed requests"
    )
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
