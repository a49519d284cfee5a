"""``action.yml`` of a local or unpacked action: metadata, inputs, outputs and how it runs.

Only what Shipyard executes is modelled: composite actions (their steps become ``workflow.Step``
values like a job's) and JavaScript actions (``node*`` with ``main``, ``pre``, ``post``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from pathlib import Path
from typing import Any

from shipyard.core import errors, suggest
from shipyard.core.frozen import frozen
from shipyard.spec import workflow, yamlsource

_STEP_KEYS = {
    "id",
    "name",
    "if",
    "run",
    "uses",
    "with",
    "env",
    "shell",
    "working-directory",
    "continue-on-error",
}
_TOP_KEYS = {"name", "author", "description", "inputs", "outputs", "runs", "branding"}


@frozen
class ActionInput:
    name: str
    default: str | None = None
    required: bool = False
    description: str | None = None


@frozen
class ActionOutput:
    name: str
    value: str | None = None
    description: str | None = None


@frozen
class ActionDefinition:
    """A parsed action.yml."""

    path: str
    name: str
    using: str
    inputs: Mapping[str, ActionInput] = field(default_factory=dict)
    outputs: Mapping[str, ActionOutput] = field(default_factory=dict)
    steps: tuple[workflow.Step, ...] = ()
    main: str | None = None
    pre: str | None = None
    post: str | None = None
    pre_if: str | None = None
    post_if: str | None = None


def load_action_file(file: Path) -> ActionDefinition:
    path = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise errors.SpecError(f"cannot read {path}: {error.strerror}") from None
    return load_action(text, path=path)


def load_action(text: str, *, path: str) -> ActionDefinition:
    document = yamlsource.parse(text, path=path)
    problems = list(document.problems)
    root = document.root
    if not isinstance(root, yamlsource.MappingNode):
        raise errors.SpecError(
            "an action file must be a mapping with `runs`",
            location=errors.SourceLocation(path, 1, 1),
        )
    _unknown_keys(root, _TOP_KEYS, "", problems)
    runs = root.entries.get("runs")
    if runs is None or not isinstance(runs.value, yamlsource.MappingNode):
        problems.append(
            errors.SpecError(
                "an action needs `runs` with `using`",
                location=root.location,
                hint="e.g. `runs: {using: composite, steps: [...]}`",
            )
        )
        raise errors.SpecErrors(problems)
    runs_node = runs.value
    using = _string(runs_node, "using", "runs", problems) or ""
    steps = _composite_steps(runs_node, path, problems) if using == "composite" else ()
    if using.startswith("node") and not _string(runs_node, "main", "runs", problems):
        problems.append(
            errors.SpecError(
                "a JavaScript action needs `runs.main`",
                location=runs_node.location,
                key_path="runs",
            )
        )
    found = errors.SpecErrors.collect(problems)
    if found is not None:
        raise found
    values = yamlsource.to_value(root)
    return ActionDefinition(
        path=path,
        name=str(values.get("name") or Path(path).parent.name),
        using=using,
        inputs=_inputs(values.get("inputs")),
        outputs=_outputs(values.get("outputs")),
        steps=steps,
        main=_optional(runs_node, "main"),
        pre=_optional(runs_node, "pre"),
        post=_optional(runs_node, "post"),
        pre_if=_optional(runs_node, "pre-if"),
        post_if=_optional(runs_node, "post-if"),
    )


def _inputs(raw: Any) -> dict[str, ActionInput]:
    if not isinstance(raw, dict):
        return {}
    result = {}
    for name, given in raw.items():
        spec = given if isinstance(given, dict) else {}
        default = spec.get("default")
        result[name] = ActionInput(
            name=name,
            default=None if default is None else _text(default),
            required=bool(spec.get("required", False)),
            description=spec.get("description"),
        )
    return result


def _outputs(raw: Any) -> dict[str, ActionOutput]:
    if not isinstance(raw, dict):
        return {}
    return {
        name: ActionOutput(
            name=name,
            value=None
            if not isinstance(spec, dict) or spec.get("value") is None
            else str(spec["value"]),
            description=spec.get("description") if isinstance(spec, dict) else None,
        )
        for name, spec in raw.items()
    }


def _composite_steps(
    runs: yamlsource.MappingNode, path: str, problems: list[errors.SpecError]
) -> tuple[workflow.Step, ...]:
    entry = runs.entries.get("steps")
    if entry is None or not isinstance(entry.value, yamlsource.SequenceNode):
        problems.append(
            errors.SpecError(
                "a composite action needs a list of `steps`",
                location=runs.location,
                key_path="runs",
            )
        )
        return ()
    steps = []
    for index, node in enumerate(entry.value.items):
        key_path = f"runs.steps[{index}]"
        if not isinstance(node, yamlsource.MappingNode):
            problems.append(
                errors.SpecError(
                    "a step must be a mapping", location=node.location, key_path=key_path
                )
            )
            continue
        _unknown_keys(node, _STEP_KEYS, key_path, problems)
        values = yamlsource.to_value(node)
        locations = {"": node.location}
        for key, item in node.entries.items():
            locations[key] = item.value.location
        source = workflow.SourceMap(file=path, key_path=key_path, locations=locations)
        if ("run" in values) == ("uses" in values):
            problems.append(
                errors.SpecError(
                    "a step needs exactly one of `run` or `uses`",
                    location=node.location,
                    key_path=key_path,
                )
            )
            continue
        if "run" in values and "shell" not in values:
            problems.append(
                errors.SpecError(
                    "a `run` step of a composite action needs `shell`",
                    location=node.location,
                    key_path=key_path,
                    hint="add `shell: bash` (composite actions have no default shell)",
                )
            )
            continue
        steps.append(
            workflow.Step(
                index=index,
                source=source,
                id=_opt_text(values.get("id")),
                name=_opt_text(values.get("name")),
                if_=_opt_text(values.get("if")),
                run=_opt_text(values.get("run")),
                uses=_opt_text(values.get("uses")),
                with_=values.get("with") or {},
                env=values.get("env") or {},
                shell=_opt_text(values.get("shell")),
                working_directory=_opt_text(values.get("working-directory")),
                continue_on_error=values.get("continue-on-error", False),
            )
        )
    return tuple(steps)


def _unknown_keys(
    node: yamlsource.MappingNode, allowed: set[str], key_path: str, problems: list[errors.SpecError]
) -> None:
    for key, entry in node.entries.items():
        if key not in allowed:
            problems.append(
                errors.SpecError(
                    f"unknown key `{key}`",
                    location=entry.key_location,
                    key_path=key_path or None,
                    hint=suggest.did_you_mean(key, allowed),
                )
            )


def _string(
    node: yamlsource.MappingNode, key: str, key_path: str, problems: list[errors.SpecError]
) -> str | None:
    entry = node.entries.get(key)
    if entry is None:
        problems.append(
            errors.SpecError(f"`{key}` is required", location=node.location, key_path=key_path)
        )
        return None
    if not isinstance(entry.value, yamlsource.ScalarNode) or not isinstance(entry.value.value, str):
        problems.append(
            errors.SpecError(
                f"`{key}` must be a string, found {yamlsource.describe(entry.value)}",
                location=entry.value.location,
                key_path=f"{key_path}.{key}",
            )
        )
        return None
    return entry.value.value


def _optional(node: yamlsource.MappingNode, key: str) -> str | None:
    entry = node.entries.get(key)
    if entry is None or not isinstance(entry.value, yamlsource.ScalarNode):
        return None
    value = entry.value.value
    return None if value is None else str(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _opt_text(value: Any) -> str | None:
    return None if value is None else _text(value)
