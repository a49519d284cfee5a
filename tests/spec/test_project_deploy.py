"""``environments.<env>.deploy`` and ``protection``: the typed settings and the exact errors, and
``--setting`` overrides checked by the same rules."""

from __future__ import annotations

import pytest

from shipyard.core import errors
from shipyard.spec import deploy_settings, project_deploy, project_loader

HEAD = """\
app: shop
services:
  web: { run: python -m shop, http: { health: /healthz } }
environments:
  production:
    port: 8080
"""


def load(extra: str) -> deploy_settings.DeploySettings:
    loaded = project_loader.load_project(HEAD + extra, path="shipyard.yaml")
    return loaded.environments["production"].deploy


def problems(extra: str) -> list[str]:
    with pytest.raises(errors.SpecErrors) as caught:
        project_loader.load_project(HEAD + extra, path="shipyard.yaml")
    return [error.render() for error in caught.value.errors]


def test_defaults_are_a_rolling_update_and_no_protection() -> None:
    loaded = project_loader.load_project(HEAD, path="shipyard.yaml")
    production = loaded.environments["production"]
    assert production.deploy == deploy_settings.DeploySettings()
    assert production.deploy.strategy == "rolling"
    assert production.protection == deploy_settings.Protection()


def test_every_key_is_read() -> None:
    text = """\
    deploy:
      strategy: canary
      steps: [{ weight: 10, pause: 30s }, { weight: 50 }]
      max_surge: 2
      max_unavailable: 1
      keep_previous: 0
      deadline: 90s
      drain_timeout: 500ms
      release_command: python -m shop.migrate
    protection: { branches: [main, release/*], approval: true }
"""
    loaded = project_loader.load_project(HEAD + text, path="shipyard.yaml")
    production = loaded.environments["production"]
    assert production.deploy == deploy_settings.DeploySettings(
        strategy="canary",
        steps=(deploy_settings.CanaryStep(10, 30.0), deploy_settings.CanaryStep(50, None)),
        max_surge=2,
        max_unavailable=1,
        keep_previous=0.0,
        deadline=90.0,
        drain_timeout=0.5,
        release_command="python -m shop.migrate",
    )
    assert production.protection == deploy_settings.Protection(("main", "release/*"), True)


def test_mistakes_are_reported_at_their_place() -> None:
    text = """\
    deploy:
      strategy: blue-grean
      steps: [{ weight: 50 }, { weight: 20, pause: soon }]
      max_surge: -1
      deadline: 0
      analysis: { interval: 10s }
    protection: { branch: main, approval: yes }
"""
    assert problems(text) == [
        "shipyard.yaml:8:17: environments.production.deploy.strategy: unknown strategy "
        "`blue-grean`\n  hint: did you mean `blue-green`?",
        "shipyard.yaml:9:41: environments.production.deploy.steps[1].weight: expected a weight "
        "above 50 and below 100, found `20`\n  hint: weights are percentages of the traffic, "
        "growing step by step; 100 comes by itself after the last step",
        "shipyard.yaml:9:52: environments.production.deploy.steps[1].pause: expected a "
        "duration, found the string `soon`\n  hint: write a duration such as `500ms`, `10s` or "
        "`2m` (a plain number is seconds)",
        "shipyard.yaml:10:18: environments.production.deploy.max_surge: expected from 0 to 64, "
        "found `-1`",
        "shipyard.yaml:11:17: environments.production.deploy.deadline: expected a duration "
        "above zero\n  hint: write a duration such as `500ms`, `10s` or `2m` (a plain number is "
        "seconds)",
        "shipyard.yaml:12:7: environments.production.deploy.analysis: `analysis` is not "
        "supported yet\n  hint: remove it; promote or abort a canary by hand: "
        "`shipyard promote|abort ENV`",
        "shipyard.yaml:13:19: environments.production.protection.branch: unknown key `branch`\n"
        "  hint: did you mean `branches`?",
        "shipyard.yaml:13:43: environments.production.protection.approval: expected `true` or "
        "`false`, found the string `yes`\n  hint: YAML 1.2 reads `yes` as a string; write `true` "
        "or `false`",
    ]


def test_surge_and_unavailable_cannot_both_be_zero() -> None:
    text = "    deploy: { max_surge: 0 }\n"
    (problem,) = problems(text)
    assert "`max_surge` and `max_unavailable` cannot both be 0" in problem


def test_overrides_follow_the_same_rules() -> None:
    base = deploy_settings.DeploySettings()
    changed = project_deploy.apply_overrides(
        base, {"strategy": "canary", "steps": "10:30s,50", "drain_timeout": "2s", "max_surge": "3"}
    )
    assert changed.strategy == "canary"
    assert changed.steps == (deploy_settings.CanaryStep(10, 30.0), deploy_settings.CanaryStep(50))
    assert (changed.drain_timeout, changed.max_surge) == (2.0, 3)
    with pytest.raises(errors.UsageError) as caught:
        project_deploy.apply_overrides(base, {"stratgy": "canary"})
    assert caught.value.render() == (
        "--setting stratgy=canary: unknown deploy setting `stratgy`\n"
        "  hint: did you mean `strategy`?"
    )
    with pytest.raises(errors.UsageError) as caught:
        project_deploy.apply_overrides(base, {"steps": "50,20"})
    assert caught.value.headline() == "--setting steps=50,20: `20` is not a step"
    with pytest.raises(errors.UsageError) as caught:
        project_deploy.apply_overrides(base, {"deadline": "later"})
    assert caught.value.headline().startswith("--setting deadline=later: write a duration")
