"""Reading ``jobs`` into ``workflow.Job`` values. Pure: no I/O.

A job either runs ``steps`` on a runner chosen by ``runs-on``, or calls a reusable workflow with
``uses`` (and then takes only ``with``, ``secrets`` and the keys every job has). Keys that need a
container (``container``, ``services``) are refused with the reason: Shipyard runs jobs on the
host. The graph of ``needs`` is checked afterwards, by ``workflow_needs``.
"""

from __future__ import annotations

import re
from typing import Literal

from shipyard.core import errors, suggest
from shipyard.spec import (
    node_reader,
    workflow,
    workflow_expressions,
    workflow_extensions,
    workflow_settings,
    workflow_steps,
    workflow_strategy,
    yamlsource,
)
from shipyard.spec import workflow_schema as schema
from shipyard.spec.node_reader import join

_JOB = "jobs.<job_id>."
_LOCAL_WORKFLOW = re.compile(r"\./\.(?:github|shipyard)/workflows/[^@\s]+\.ya?ml")
_REMOTE_WORKFLOW = re.compile(r"[^/@\s]+/[^/@\s]+/\.github/workflows/[^@\s]+\.ya?ml@[^@\s]+")


def read_jobs(reader: node_reader.NodeReader, node: yamlsource.Node) -> dict[str, workflow.Job]:
    """Every readable job, by id, in the file's order."""
    mapping = reader.mapping(node, "jobs", "a mapping of job ids to jobs")
    if mapping is None:
        return {}
    if not mapping.entries:
        reader.error(node.location, "jobs", "the workflow has no jobs", "add a job under `jobs:`")
    jobs = {}
    for job_id, entry in mapping.entries.items():
        job = _JobReader(reader, job_id, entry).read()
        if job is not None:
            jobs[job_id] = job
    return jobs


class _JobReader:
    """One job; ``locations`` becomes its ``SourceMap``."""

    def __init__(
        self, reader: node_reader.NodeReader, job_id: str, entry: yamlsource.Entry
    ) -> None:
        self.reader = reader
        self.job_id = job_id
        self.entry = entry
        self.path = join("jobs", job_id)
        self.locations: dict[str, errors.SourceLocation] = {"": entry.key_location}
        self.entries: dict[str, yamlsource.Entry] = {}
        self.allowed: frozenset[str] = schema.STEPS_JOB_KEYS

    def read(self) -> workflow.Job | None:
        reader = self.reader
        workflow_steps.check_id(reader, self.job_id, self.entry.key_location, self.path, "job")
        mapping = reader.mapping(self.entry.value, self.path, "a job (a mapping)")
        if mapping is None:
            return None
        entries = self.entries = mapping.entries
        for key, entry in entries.items():
            self.locations[key] = entry.value.location
        calls = "uses" in entries
        self.allowed = schema.CALL_JOB_KEYS if calls else schema.STEPS_JOB_KEYS
        self._check_keys(mapping, calls)
        if not calls:
            for key, hint in (("runs-on", _RUNS_ON_HINT), ("steps", _STEPS_HINT)):
                reader.require(
                    mapping,
                    self.path,
                    key,
                    hint,
                    location=self.entry.key_location,
                    known=schema.JOB_KEYS,
                )
        steps_node = self._node("steps")
        return workflow.Job(
            id=self.job_id,
            source=workflow.SourceMap(reader.file, self.path, self.locations),
            name=self._string("name"),
            needs=self._needs(),
            if_=self._condition(),
            runs_on=self._runs_on(),
            strategy=self._strategy(),
            continue_on_error=self._continue_on_error(),
            timeout_minutes=self._timeout("timeout-minutes", 360),
            outputs=self._strings("outputs", "outputs.<output_id>"),
            env=self._values("env", "env"),
            defaults=self._defaults(),
            environment=self._environment(),
            concurrency=self._concurrency(),
            permissions=self._permissions(),
            steps=(
                workflow_steps.read_steps(reader, steps_node, self.path)
                if steps_node is not None
                else ()
            ),
            uses=self._uses(),
            with_=self._values("with", "with.<with_id>"),
            secrets=self._secrets(),
            x_shipyard=self._extensions(),
        )

    def _extensions(self) -> workflow.Extensions:
        node = self._node("x-shipyard")
        if node is None:
            return workflow.Extensions()
        found = workflow_extensions.read_extensions(self.reader, node, self.path)
        return found if found is not None else workflow.Extensions()

    def _check_keys(self, mapping: yamlsource.MappingNode, calls: bool) -> None:
        allowed = schema.CALL_JOB_KEYS if calls else schema.STEPS_JOB_KEYS
        for key, entry in mapping.entries.items():
            if key in allowed:
                continue
            key_path = join(self.path, key)
            if key in schema.UNSUPPORTED_JOB_KEYS:
                self.reader.error(entry.key_location, key_path, *schema.UNSUPPORTED_JOB_KEYS[key])
            elif calls and key == "steps":
                self.reader.error(
                    entry.key_location,
                    key_path,
                    "a job cannot have both `steps` and `uses`",
                    "run the steps in a job of their own, or in the called workflow",
                )
            elif calls and key in schema.JOB_KEYS:
                self.reader.error(
                    entry.key_location,
                    key_path,
                    f"`{key}` cannot be used in a job that calls a reusable workflow (`uses`)",
                    "such a job takes only "
                    + ", ".join(f"`{name}`" for name in sorted(schema.CALL_JOB_KEYS)),
                )
            elif key in schema.JOB_KEYS:
                self.reader.error(
                    entry.key_location,
                    key_path,
                    f"`{key}` only applies to a job that calls a reusable workflow (`uses`)",
                    "pass values to a step's action with the step's own `with`",
                )
            else:
                self.reader.error(
                    entry.key_location,
                    key_path,
                    f"unknown key `{key}`",
                    suggest.did_you_mean(key, schema.JOB_KEYS | schema.UNSUPPORTED_JOB_KEYS.keys()),
                )

    # -- keys --

    def _node(self, key: str) -> yamlsource.Node | None:
        """The value of ``key``, when this kind of job takes it (else it was reported)."""
        entry = self.entries.get(key) if key in self.allowed else None
        return entry.value if entry is not None else None

    def _string(self, key: str) -> str | None:
        node = self._node(key)
        if node is None:
            return None
        path = join(self.path, key)
        value = self.reader.string(node, path)
        workflow_expressions.check(self.reader, value, _JOB + key, node.location, path)
        return value

    def _needs(self) -> tuple[str, ...]:
        node = self._node("needs")
        if node is None:
            return ()
        found = self.reader.strings(node, join(self.path, "needs")) or []
        for index, (_, item) in enumerate(found):
            self.locations[f"needs[{index}]"] = item.location
        return tuple(name for name, _ in found)

    def _condition(self) -> str | None:
        node = self._node("if")
        if node is None:
            return None
        return workflow_settings.read_condition(
            self.reader, node, join(self.path, "if"), _JOB + "if"
        )

    def _runs_on(self) -> workflow.Value:
        node = self._node("runs-on")
        if node is None:
            return None
        path = join(self.path, "runs-on")
        if isinstance(node, yamlsource.MappingNode):
            return self._runner_group(node, path)
        found = self.reader.strings(node, path)
        if found is None:
            return None
        for text, item in found:
            workflow_expressions.check(self.reader, text, _JOB + "runs-on", item.location, path)
        if isinstance(node, yamlsource.ScalarNode):
            return found[0][0] if found else None
        if not node.items if isinstance(node, yamlsource.SequenceNode) else False:
            self.reader.error(node.location, path, "`runs-on` names no runner", _RUNS_ON_HINT)
        return [text for text, _ in found]

    def _runner_group(self, node: yamlsource.MappingNode, path: str) -> workflow.Value:
        self.reader.check_keys(node, path, schema.RUNS_ON_KEYS)
        result: dict[str, workflow.Value] = {}
        if "group" in node.entries:
            group = self.reader.string(
                node.entries["group"].value, join(path, "group"), non_empty=True
            )
            if group is not None:
                result["group"] = group
        if "labels" in node.entries:
            labels = self.reader.strings(node.entries["labels"].value, join(path, "labels"))
            if labels is not None:
                result["labels"] = [text for text, _ in labels]
        if not result:
            self.reader.error(
                node.location, path, "`runs-on` names no runner", "add `group` or `labels`"
            )
        return result

    def _strategy(self) -> workflow.Strategy | None:
        node = self._node("strategy")
        if node is None:
            return None
        return workflow_strategy.read_strategy(self.reader, node, self.path, self.locations)

    def _continue_on_error(self) -> bool | str:
        node = self._node("continue-on-error")
        if node is None:
            return False
        path = join(self.path, "continue-on-error")
        value = self.reader.boolean(node, path, expression=True)
        workflow_expressions.check(
            self.reader, value, _JOB + "continue-on-error", node.location, path
        )
        return value if value is not None else False

    def _timeout(self, key: str, default: float) -> float | str:
        node = self._node(key)
        if node is None:
            return default
        path = join(self.path, key)
        value = self.reader.number(node, path, expression=True, above=0)
        workflow_expressions.check(
            self.reader, value, _JOB + "timeout-minutes", node.location, path
        )
        if key == "cancel-timeout-minutes":
            return default
        return value if value is not None else default

    def _strings(self, key: str, pattern: str) -> dict[str, str]:
        node = self._node(key)
        if node is None:
            return {}
        return workflow_settings.read_strings(
            self.reader, node, self.path, _JOB + pattern, self.locations, key=key
        )

    def _values(self, key: str, pattern: str) -> dict[str, workflow.Value]:
        node = self._node(key)
        if node is None:
            return {}
        return workflow_settings.read_env(
            self.reader, node, self.path, _JOB + pattern, self.locations, key=key
        )

    def _defaults(self) -> workflow.RunDefaults:
        node = self._node("defaults")
        if node is None:
            return workflow.RunDefaults()
        return workflow_settings.read_defaults(
            self.reader, node, self.path, _JOB + "defaults.run", self.locations
        )

    def _environment(self) -> workflow.Environment | None:
        node = self._node("environment")
        if node is None:
            return None
        path = join(self.path, "environment")
        if isinstance(node, yamlsource.ScalarNode):
            name = self.reader.string(node, path, non_empty=True)
            workflow_expressions.check(self.reader, name, _JOB + "environment", node.location, path)
            return workflow.Environment(name=name) if name is not None else None
        mapping = self.reader.mapping(node, path, "an environment name or a mapping with `name`")
        if mapping is None:
            return None
        self.reader.check_keys(mapping, path, schema.ENVIRONMENT_KEYS)
        if "deployment" in mapping.entries:
            self.reader.boolean(mapping.entries["deployment"].value, join(path, "deployment"))
        url = None
        if "url" in mapping.entries:
            url_node = mapping.entries["url"].value
            url = self.reader.string(url_node, join(path, "url"))
            self.locations["environment.url"] = url_node.location
            workflow_expressions.check(
                self.reader, url, _JOB + "environment.url", url_node.location, join(path, "url")
            )
        if not self.reader.require(mapping, path, "name", "add `name: production`"):
            return None
        name_node = mapping.entries["name"].value
        name = self.reader.string(name_node, join(path, "name"), non_empty=True)
        self.locations["environment.name"] = name_node.location
        workflow_expressions.check(
            self.reader, name, _JOB + "environment", name_node.location, join(path, "name")
        )
        return workflow.Environment(name=name, url=url) if name is not None else None

    def _concurrency(self) -> workflow.Concurrency | None:
        node = self._node("concurrency")
        if node is None:
            return None
        return workflow_settings.read_concurrency(
            self.reader, node, self.path, _JOB + "concurrency", self.locations
        )

    def _permissions(self) -> workflow.Permissions | None:
        node = self._node("permissions")
        if node is None:
            return None
        return workflow_settings.read_permissions(self.reader, node, self.path, self.locations)

    def _uses(self) -> str | None:
        node = self._node("uses")
        if node is None:
            return None
        path = join(self.path, "uses")
        uses = self.reader.string(node, path, strict=True, non_empty=True)
        if uses is None:
            return None
        if node_reader.is_expression(uses):
            self.reader.error(
                node.location,
                path,
                "expressions are not allowed in `uses`",
                "name the workflow file itself; GitHub resolves `uses` before any context exists",
            )
            return None
        if _LOCAL_WORKFLOW.fullmatch(uses) or _REMOTE_WORKFLOW.fullmatch(uses):
            return uses
        hint = (
            "a reusable workflow is `./.github/workflows/<file>.yml` in this repository, or "
            "`owner/repo/.github/workflows/<file>.yml@ref`"
        )
        if uses.startswith("./") and "@" in uses:
            hint = "a workflow in this repository takes no `@ref`: remove it"
        self.reader.error(node.location, path, f"invalid reusable workflow `{uses}`", hint)
        return None

    def _secrets(self) -> dict[str, str] | Literal["inherit"] | None:
        node = self._node("secrets")
        if node is None:
            return None
        if isinstance(node, yamlsource.ScalarNode) and node.value == "inherit":
            return "inherit"
        if isinstance(node, yamlsource.ScalarNode):
            self.reader.wrong_type(node, join(self.path, "secrets"), "`inherit` or a mapping")
            return None
        return self._strings("secrets", "secrets.<secrets_id>")


_RUNS_ON_HINT = "add `runs-on: ubuntu-latest` (Shipyard runs `ubuntu-*` jobs on this machine)"
_STEPS_HINT = "add `steps:` with `run` or `uses` steps, or call a reusable workflow with `uses`"
