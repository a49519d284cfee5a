"""The strategies as tables: an observed environment in, the exact rollout steps out."""

from __future__ import annotations

import pytest

from shipyard.deploy.strategies import planning, steps
from shipyard.spec import deploy_settings

WEB = steps.ServiceState("web", wanted=2, http=True, old=2)
WORKER = steps.ServiceState("worker", wanted=1, old=1)


def plan(observed: steps.Observed, **settings: object) -> list[str]:
    chosen = deploy_settings.DeploySettings(**settings)  # type: ignore[arg-type]
    return [steps.describe(step) for step in planning.plan(observed, chosen)]


def moving(*services: steps.ServiceState, **old_only: int) -> steps.Observed:
    return steps.Observed("staging", "new", "old", services, old_only)


def test_rolling_starts_one_before_it_drains_one() -> None:
    assert plan(moving(WEB, WORKER), strategy="rolling") == [
        "scale web of release new to 1",
        "route 33% of the traffic to the new release",
        "scale web of release old to 1",
        "route 50% of the traffic to the new release",
        "scale web of release new to 2",
        "route 67% of the traffic to the new release",
        "route 100% of the traffic to the new release",
        "scale web of release old to 0",
        "scale worker of release new to 1",
        "scale worker of release old to 0",
    ]


def test_rolling_with_max_unavailable_drains_first() -> None:
    assert plan(moving(WEB), strategy="rolling", max_surge=0, max_unavailable=1) == [
        "scale web of release old to 1",
        "scale web of release new to 1",
        "route 50% of the traffic to the new release",
        "route 100% of the traffic to the new release",
        "scale web of release old to 0",
        "scale web of release new to 2",
    ]


def test_rolling_with_a_wide_surge_replaces_all_at_once() -> None:
    wide = steps.ServiceState("web", wanted=3, http=True, old=3)
    assert plan(moving(wide), strategy="rolling", max_surge=3) == [
        "scale web of release new to 3",
        "route 50% of the traffic to the new release",
        "route 100% of the traffic to the new release",
        "scale web of release old to 0",
    ]


def test_blue_green_switches_at_once_and_keeps_the_old_set_warm() -> None:
    assert plan(moving(WEB, WORKER), strategy="blue-green", release_command="migrate") == [
        "run the release command: migrate",
        "scale web of release new to 2",
        "scale worker of release new to 1",
        "route 100% of the traffic to the new release",
        "scale worker of release old to 0",
        "keep release old warm for 600 s (instant rollback)",
    ]
    assert plan(moving(WEB), strategy="blue-green", keep_previous=0) == [
        "scale web of release new to 2",
        "route 100% of the traffic to the new release",
        "scale web of release old to 0",
    ]


def test_back_to_a_warm_release_is_a_route_switch() -> None:
    warm = steps.ServiceState("web", wanted=2, http=True, old=2, new=2)
    assert plan(moving(warm), strategy="blue-green", keep_previous=0) == [
        "route 100% of the traffic to the new release",
        "scale web of release old to 0",
    ]


def test_canary_steps_pause_then_promote_to_all() -> None:
    canary_steps = (deploy_settings.CanaryStep(10, 30.0), deploy_settings.CanaryStep(50))
    assert plan(moving(WEB), strategy="canary", steps=canary_steps) == [
        "scale web of release new to 2",
        "route 10% of the traffic to the new release",
        "pause at 10% for 30 s",
        "route 50% of the traffic to the new release",
        "pause at 50% until `shipyard promote` (or `shipyard abort`)",
        "route 100% of the traffic to the new release",
        "scale web of release old to 0",
    ]


def test_recreate_stops_first_and_removed_services_go() -> None:
    assert plan(moving(WEB, cron=1), strategy="recreate") == [
        "scale web of release old to 0",
        "scale cron of release old to 0",
        "scale web of release new to 2",
        "route 100% of the traffic to the new release",
    ]


@pytest.mark.parametrize("strategy", deploy_settings.STRATEGIES)
def test_a_first_deploy_starts_everything_whatever_the_strategy(strategy: str) -> None:
    fresh = steps.Observed("staging", "new", None, (steps.ServiceState("web", 2, True), WORKER))
    assert plan(fresh, strategy=strategy) == [
        "scale web of release new to 2",
        "scale worker of release new to 1",
        "route 100% of the traffic to the new release",
    ]


def test_revert_brings_the_old_release_back_before_the_traffic() -> None:
    halfway = moving(steps.ServiceState("web", wanted=2, http=True, old=1, new=2), WORKER)
    reverted = planning.revert(halfway, {"web": 2, "worker": 1})
    assert [steps.describe(step) for step in reverted] == [
        "scale web of release old to 2",
        "route 0% of the traffic to the new release",
        "scale web of release new to 0",
    ]
