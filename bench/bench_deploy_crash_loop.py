"""A crash-looping release under load: the deploy fails within its deadline, users see nothing.

Under about 200 requests/s (the zero-downtime bench's mix), a release whose instances exit at
start (``WEBAPP_CRASH_ON_START=1``) is deployed with ``deadline: 10s``, and one that runs but is
never ready (``WEBAPP_UNHEALTHY=1``) with ``deadline: 4s``. The figure is how long the deploy
takes to fail (the command line's wall time) beside its deadline, and the failed requests counted
during it; baseline, same run: the same load without any deploy for the same time. 3 rounds
each. Targets: each fails within its deadline (+1 s for the command itself), 0 failed requests.
"""

from __future__ import annotations

import sys
import time

import _deploy_common as common

ROUNDS = 3
CASES = (
    ("crash-loop", "10s", 10.0, ", WEBAPP_CRASH_ON_START: 1"),
    ("never ready", "4s", 4.0, ", WEBAPP_UNHEALTHY: 1"),
)


def main() -> int:
    print(f"machine: {common.machine()}")
    rows: list[tuple[str, float, float, int, int]] = []
    with common.scratch_app("rolling") as app:
        releases = {
            name: [app.release(f"{name}-{index}", env=env) for index in range(ROUNDS)]
            for name, _, _, env in CASES
        }
        with common.Load(app.port, rate=200, workers=8, slow_ms=1500, max_seconds=30) as load:
            time.sleep(8.0)
            baseline = load.stop()
        rows.append(("baseline: no deploy, 8 s", 0.0, 8.0, baseline.sent, len(baseline.failures)))
        for name, deadline, seconds, _ in CASES:
            for release in releases[name]:
                with common.Load(
                    app.port, rate=200, workers=8, slow_ms=1500, max_seconds=120
                ) as load:
                    took, out, err, status = app.deploy(release, "--set", f"deadline={deadline}")
                    time.sleep(1.0)
                    tally = load.stop()
                if status != 1 or "still serves staging" not in err:
                    print(f"the {name} deploy did not fail as it should: {status} {err or out}")
                    return 1
                rows.append((name, seconds, took, tally.sent, len(tally.failures)))
                for failure in tally.failures[:3]:
                    print(f"    {failure}")
    print()
    print(f"{'case':<26} {'deadline':>9} {'failed after':>13} {'requests':>9} {'failed':>7}")
    ok = True
    for name, deadline, took, sent, failed in rows:
        shown = f"{deadline:.0f}s" if deadline and name[0] != "b" else "-"
        print(f"{name:<26} {shown:>9} {took:>12.2f}s {sent:>9} {failed:>7}")
        if not name.startswith("baseline"):
            ok = ok and failed == 0 and took <= deadline + 1.0
    verdict = "PASS" if ok else "MISS"
    print()
    print(f"{verdict}: every bad release failed within its deadline (+1 s) with 0 failed requests")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
