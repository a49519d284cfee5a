"""A crash-looping release under load: the deploy fails within its deadline, users see nothing.

Under about 200 requests/s (the zero-downtime bench's mix), a release whose instances exit at
start (``WEBAPP_CRASH_ON_START=1``) is deployed with ``deadline: 10s``, and one that runs but is
never ready (``WEBAPP_UNHEALTHY=1``) with ``deadline: 4s``. The figure is when the health
gate failed the deploy (its ``deploy.reverting`` event, from the deploy's start on the server)
beside its deadline, the command's whole wall time (start-up, the revert, following the events),
and the failed requests counted meanwhile; baseline, same run: the same load without any deploy.
3 rounds each. Targets: each gate fails within its deadline (+0.5 s), 0 failed requests.
"""

from __future__ import annotations

import sys
import time

import _deploy_common as common

ROUNDS = 3
TOLERANCE = 0.5
"""Seconds past the deadline a gate may fire: one probe interval and the event loop's turn."""
CASES = (
    ("crash-loop", "10s", 10.0, ", WEBAPP_CRASH_ON_START: 1"),
    ("never ready", "4s", 4.0, ", WEBAPP_UNHEALTHY: 1"),
)


def main() -> int:
    print(f"machine: {common.machine()}")
    rows: list[tuple[str, float, float, float, int, int]] = []
    with common.scratch_app("rolling") as app:
        releases = {
            name: [app.release(f"{name}-{index}", env=env) for index in range(ROUNDS)]
            for name, _, _, env in CASES
        }
        with common.Load(app.port, rate=200, workers=16, slow_ms=1500, max_seconds=30) as load:
            time.sleep(8.0)
            baseline = load.stop()
        rows.append(
            ("baseline: no deploy, 8 s", 0.0, 0.0, 8.0, baseline.sent, len(baseline.failures))
        )
        for name, deadline, seconds, _ in CASES:
            for release in releases[name]:
                with common.Load(
                    app.port, rate=200, workers=16, slow_ms=1500, max_seconds=120
                ) as load:
                    setting = f"deadline={deadline}"
                    took, out, err, status = app.deploy(release, "--setting", setting)
                    time.sleep(1.0)
                    tally = load.stop()
                if status != 1 or "still serves staging" not in err:
                    print(f"the {name} deploy did not fail as it should: {status} {err or out}")
                    return 1
                latest = common.api(app.home, "GET", "/api/v1/environments/staging/deploys")
                record = latest.json()[0]
                events = common.api(app.home, "GET", f"/api/v1/deploys/{record['id']}/events")
                failed_at = next(e["at"] for e in events.json() if e["kind"] == "deploy.reverting")
                gate = failed_at - record["started_at"]
                rows.append((name, seconds, gate, took, tally.sent, len(tally.failures)))
                for failure in tally.failures[:3]:
                    print(f"    {failure}")
    print()
    print(
        f"{'case':<26} {'deadline':>9} {'gate failed':>12} {'command took':>13} "
        f"{'requests':>9} {'failed':>7}"
    )
    ok = True
    for name, deadline, gate, took, sent, failed in rows:
        baseline_row = name.startswith("baseline")
        shown = "-" if baseline_row else f"{deadline:.0f}s"
        gate_shown = "-" if baseline_row else f"{gate:.2f}s"
        print(f"{name:<26} {shown:>9} {gate_shown:>12} {took:>12.2f}s {sent:>9} {failed:>7}")
        if not baseline_row:
            ok = ok and failed == 0 and gate <= deadline + TOLERANCE
    verdict = "PASS" if ok else "MISS"
    print()
    print(
        f"{verdict}: every bad release failed its health gate within its deadline "
        f"(+{TOLERANCE:g} s) with 0 failed requests"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
