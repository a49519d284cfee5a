"""``environments.<env>.deploy`` and ``environments.<env>.protection`` of ``shipyard.yaml``. Pure.

environments:
  production:
    deploy:
      strategy: canary            # recreate | rolling (default) | blue-green | canary
      steps: [{ weight: 10, pause: 30s }, { weight: 50 }]   # no pause: wait for `promote`
      deadline: 60s               # new instances must be ready within it
      drain_timeout: 30s
      release_command: python manage.py migrate
    protection: { branches: [main], approval: true }

``apply_overrides`` reads ``shipyard deploy --setting KEY=VALUE`` against the same rules, so a value
given on the command line is checked exactly like one in the file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from shipyard.core import errors, suggest
from shipyard.spec import deploy_settings, node_reader, project_services, yamlsource
from shipyard.spec.node_reader import join

DEPLOY_KEYS = frozenset(
    {
        "strategy",
        "max_surge",
        "max_unavailable",
        "keep_previous",
        "steps",
        "deadline",
        "drain_timeout",
        "release_command",
    }
)
UNSUPPORTED_DEPLOY = {
    "analysis": (
        "`analysis` is not supported yet",
        "remove it; promote or abort a canary by hand: `shipyard promote|abort ENV`",
    ),
}
STEP_KEYS = frozenset({"weight", "pause"})
PROTECTION_KEYS = frozenset({"branches", "approval"})
MAX_INSTANCES_AT_ONCE = 64


def read_environment_deploy(
    reader: node_reader.NodeReader, entries: Mapping[str, yamlsource.Entry], path: str
) -> tuple[deploy_settings.DeploySettings, deploy_settings.Protection]:
    """The ``deploy`` and ``protection`` of one environment's mapping (defaults when absent)."""
    settings = deploy_settings.DeploySettings()
    if "deploy" in entries:
        settings = _deploy(reader, entries["deploy"].value, join(path, "deploy"))
    protection = deploy_settings.Protection()
    if "protection" in entries:
        protection = _protection(reader, entries["protection"].value, join(path, "protection"))
    return settings, protection


def _deploy(
    reader: node_reader.NodeReader, node: yamlsource.Node, path: str
) -> deploy_settings.DeploySettings:
    defaults = deploy_settings.DeploySettings()
    mapping = reader.mapping(node, path, "a mapping such as `{ strategy: blue-green }`")
    if mapping is None:
        return defaults
    reader.check_keys(mapping, path, DEPLOY_KEYS, UNSUPPORTED_DEPLOY)
    entries = mapping.entries
    changes: dict[str, object] = {}
    if "strategy" in entries:
        strategy = reader.choice(
            entries["strategy"].value,
            join(path, "strategy"),
            deploy_settings.STRATEGIES,
            noun="strategy",
        )
        if strategy is not None:
            changes["strategy"] = strategy
    for key in ("max_surge", "max_unavailable"):
        if key in entries:
            count = _count(reader, entries[key].value, join(path, key))
            if count is not None:
                changes[key] = count
    for key, zero in (("keep_previous", True), ("deadline", False), ("drain_timeout", True)):
        if key in entries:
            seconds = project_services.read_duration(
                reader, entries[key].value, join(path, key), allow_zero=zero
            )
            if seconds is not None:
                changes[key] = seconds
    if "steps" in entries:
        steps = _steps(reader, entries["steps"].value, join(path, "steps"))
        if steps is not None:
            changes["steps"] = steps
    if "release_command" in entries:
        command = reader.string(
            entries["release_command"].value,
            join(path, "release_command"),
            strict=True,
            non_empty=True,
        )
        if command is not None:
            changes["release_command"] = command
    settings = dataclasses.replace(defaults, **changes)  # type: ignore[arg-type]
    if settings.max_surge == 0 and settings.max_unavailable == 0:
        reader.error(
            mapping.location,
            join(path, "max_surge"),
            "`max_surge` and `max_unavailable` cannot both be 0: a rolling update could not move",
            "allow one extra instance (`max_surge: 1`) or one fewer (`max_unavailable: 1`)",
        )
    return settings


def _count(reader: node_reader.NodeReader, node: yamlsource.Node, path: str) -> int | None:
    value = reader.number(node, path, kind="integer")
    if not isinstance(value, int):
        return None
    if not 0 <= value <= MAX_INSTANCES_AT_ONCE:
        reader.error(
            node.location, path, f"expected from 0 to {MAX_INSTANCES_AT_ONCE}, found `{value}`"
        )
        return None
    return value


def _steps(
    reader: node_reader.NodeReader, node: yamlsource.Node, path: str
) -> tuple[deploy_settings.CanaryStep, ...] | None:
    sequence = reader.sequence(node, path, "a list such as `[{ weight: 10, pause: 30s }]`")
    if sequence is None:
        return None
    if not sequence.items:
        reader.error(sequence.location, path, "no steps", "add at least `- { weight: 10 }`")
        return None
    found: list[deploy_settings.CanaryStep] = []
    for index, item in enumerate(sequence.items):
        item_path = f"{path}[{index}]"
        mapping = reader.mapping(item, item_path, "a mapping such as `{ weight: 10, pause: 30s }`")
        if mapping is None:
            continue
        reader.check_keys(mapping, item_path, STEP_KEYS)
        if not reader.require(
            mapping,
            item_path,
            "weight",
            "give the new release's share: `weight: 10`",
            known=STEP_KEYS,
        ):
            continue
        pause = None
        if "pause" in mapping.entries:
            pause = project_services.read_duration(
                reader, mapping.entries["pause"].value, join(item_path, "pause"), allow_zero=True
            )
        weight_node = mapping.entries["weight"].value
        weight = reader.number(weight_node, join(item_path, "weight"), kind="integer")
        if not isinstance(weight, int):
            continue
        previous = found[-1].weight if found else 0
        if not previous < weight < 100:
            reader.error(
                weight_node.location,
                join(item_path, "weight"),
                f"expected a weight above {previous} and below 100, found `{weight}`",
                "weights are percentages of the traffic, growing step by step; "
                "100 comes by itself after the last step",
            )
            continue
        found.append(deploy_settings.CanaryStep(weight, pause))
    return tuple(found)


def _protection(
    reader: node_reader.NodeReader, node: yamlsource.Node, path: str
) -> deploy_settings.Protection:
    mapping = reader.mapping(node, path, "a mapping such as `{ branches: [main], approval: true }`")
    if mapping is None:
        return deploy_settings.Protection()
    reader.check_keys(mapping, path, PROTECTION_KEYS)
    branches: tuple[str, ...] = ()
    if "branches" in mapping.entries:
        found = reader.strings(mapping.entries["branches"].value, join(path, "branches"))
        branches = tuple(text for text, _ in found or [])
    approval = False
    if "approval" in mapping.entries:
        value = reader.boolean(mapping.entries["approval"].value, join(path, "approval"))
        approval = value is True
    return deploy_settings.Protection(branches=branches, approval=approval)


# -- shipyard deploy --setting KEY=VALUE --


def apply_overrides(
    settings: deploy_settings.DeploySettings, overrides: Mapping[str, str]
) -> deploy_settings.DeploySettings:
    """``settings`` with ``--setting`` values applied; raises ``UsageError`` naming the flag."""
    changes: dict[str, object] = {}
    for key, text in overrides.items():
        flag = f"--setting {key}={text}"
        if key not in DEPLOY_KEYS:
            raise errors.UsageError(
                f"{flag}: unknown deploy setting `{key}`",
                hint=suggest.did_you_mean(key, sorted(DEPLOY_KEYS), noun="setting"),
            )
        changes[key] = _override(key, text, flag)
    merged = dataclasses.replace(settings, **changes)  # type: ignore[arg-type]
    if merged.max_surge == 0 and merged.max_unavailable == 0:
        raise errors.UsageError(
            "--setting: `max_surge` and `max_unavailable` cannot both be 0",
            hint="allow one extra instance (`--setting max_surge=1`)",
        )
    return merged


def _override(key: str, text: str, flag: str) -> object:
    if key == "strategy":
        if text not in deploy_settings.STRATEGIES:
            raise errors.UsageError(
                f"{flag}: unknown strategy `{text}`",
                hint=suggest.did_you_mean(text, deploy_settings.STRATEGIES, noun="strategy"),
            )
        return text
    if key in ("max_surge", "max_unavailable"):
        if not text.isdigit() or int(text) > MAX_INSTANCES_AT_ONCE:
            raise errors.UsageError(
                f"{flag}: expected a whole number from 0 to {MAX_INSTANCES_AT_ONCE}"
            )
        return int(text)
    if key in ("keep_previous", "deadline", "drain_timeout"):
        seconds = project_services.parse_duration(_number_or_text(text))
        if seconds is None or (key == "deadline" and seconds == 0):
            raise errors.UsageError(f"{flag}: {project_services.DURATION_HINT}")
        return seconds
    if key == "steps":
        return _override_steps(text, flag)
    if not text.strip():
        raise errors.UsageError(
            f"{flag}: expected a command", hint="e.g. `--setting release_command='make migrate'`"
        )
    return text


def _override_steps(text: str, flag: str) -> tuple[deploy_settings.CanaryStep, ...]:
    """``10:30s,50`` -> weight 10 then 30 s, weight 50 then wait for ``promote``."""
    found: list[deploy_settings.CanaryStep] = []
    for part in text.split(","):
        weight_text, _, pause_text = part.strip().partition(":")
        previous = found[-1].weight if found else 0
        if not weight_text.isdigit() or not previous < int(weight_text) < 100:
            raise errors.UsageError(
                f"{flag}: `{part}` is not a step",
                hint="write growing weights below 100, each with an optional pause: "
                "`--setting steps=10:30s,50`",
            )
        pause = None
        if pause_text:
            pause = project_services.parse_duration(_number_or_text(pause_text))
            if pause is None:
                raise errors.UsageError(f"{flag}: {project_services.DURATION_HINT}")
        found.append(deploy_settings.CanaryStep(int(weight_text), pause))
    return tuple(found)


def _number_or_text(text: str) -> object:
    try:
        return float(text)
    except ValueError:
        return text
