"""Zero downtime: every request counted while releases change under about 200 requests/s.

The example app (2 replicas) behind the router takes a steady load from 16 client threads: one
opens a new connection for every request, fifteen keep theirs alive, and every 40th request of each
is a slow one (``/slow?ms=1500``). Under that load: 10 rolling deploys, 10 blue-green deploys, 10
canaries promoted by hand (``--setting steps=50``, then ``shipyard promote``) and 5 rollbacks (each
right after a blue-green deploy: a route switch back to the warm release). The baseline is the
same load for a 10 s window with no deploy at all, measured first in the same run.
Target: zero failed requests. Bounded: 35 deploys at most, 15 minutes at most.
"""

from __future__ import annotations

import sys
import time

import _deploy_common as common

RATE = 200.0
WORKERS = 16
DEPLOYS = 10
ROLLBACKS = 5
BUDGET = 15 * 60.0


def main() -> int:  # noqa: PLR0915 - one scenario, read top to bottom
    print(f"machine: {common.machine()}")
    started = time.monotonic()
    results: list[tuple[str, int, common.Tally, float]] = []
    with common.scratch_app("rolling") as app:
        versions = iter(range(1, 1000))
        # Releases are built before the load starts: the figure is about deploys, not builds.
        plan: list[tuple[str, list[str]]] = []
        for kind in ("rolling", "blue-green", "canary"):
            for _ in range(DEPLOYS):
                plan.append((kind, [app.release(f"v{next(versions)}")]))
        print(f"built {len(plan)} releases in {time.monotonic() - started:.0f} s")

        with common.Load(
            app.port, rate=RATE, workers=WORKERS, slow_ms=1500, max_seconds=BUDGET
        ) as load:
            time.sleep(10.0)
            baseline = load.stop()
        results.append(("baseline: no deploy, 10 s", 0, baseline, 10.0))

        rollbacks = 0
        for kind in ("rolling", "blue-green", "canary"):
            batch = [releases for k, releases in plan if k == kind]
            window = time.monotonic()
            done = 0
            count_rollbacks = 0
            with common.Load(
                app.port, rate=RATE, workers=WORKERS, slow_ms=1500, max_seconds=BUDGET
            ) as load:
                for (release,) in batch:
                    if time.monotonic() - started > BUDGET:
                        break
                    args = ["--strategy", kind]
                    if kind == "canary":
                        args += ["--setting", "steps=50"]
                    _, out, err, status = app.deploy(release, *args)
                    if status != 0:
                        print(f"deploy failed: {err or out}")
                        break
                    if kind == "canary":
                        _, out, err, status = app.cli("promote", "staging")
                        if status != 0:
                            print(f"promote failed: {err or out}")
                            break
                    done += 1
                    if kind == "blue-green" and rollbacks < ROLLBACKS and done % 2 == 0:
                        _, out, err, status = app.cli("rollback", "staging")
                        if status != 0:
                            print(f"rollback failed: {err or out}")
                            break
                        rollbacks += 1
                        count_rollbacks += 1
                time.sleep(2.0)  # let the last slow requests finish inside the window
                tally = load.stop()
            label = f"{done} {kind} deploys" + (
                f" + {count_rollbacks} rollbacks" if count_rollbacks else ""
            )
            results.append((label, done, tally, time.monotonic() - window))

    print()
    print(f"{'window':<38} {'requests':>9} {'req/s':>7} {'failed':>7} {'p50':>8} {'p99':>8}")
    failed_total = 0
    for label, _, tally, seconds in results:
        p50 = common.percentile(tally.latencies, 0.5) * 1000
        p99 = common.percentile(tally.latencies, 0.99) * 1000
        failed = len(tally.failures)
        failed_total += failed if not label.startswith("baseline") else 0
        print(
            f"{label:<38} {tally.sent:>9} {tally.sent / seconds:>7.0f} {failed:>7} "
            f"{p50:>6.1f}ms {p99:>6.0f}ms"
        )
        for failure in tally.failures[:5]:
            print(f"    {failure}")
    complete = all(done == DEPLOYS for label, done, _, _ in results[1:]) and rollbacks == ROLLBACKS
    verdict = "PASS" if failed_total == 0 and complete else "MISS"
    print()
    print(
        f"{verdict}: {failed_total} failed requests over {3 * DEPLOYS} deploys and {rollbacks} "
        f"rollbacks (target: 0, all deploys done: {complete})"
    )
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
