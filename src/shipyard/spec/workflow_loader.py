"""Workflow files in, validated ``workflow.Workflow`` models out.

The entry point of the workflow format: YAML text (or a file) becomes a ``Workflow`` whose every
object knows where it was written, or ``errors.SpecErrors`` listing every problem in the file at
once, each at file:line:col with its key path and a hint. The runner and planner only ever see the
model. This module reads the top level; ``workflow_triggers`` reads ``on``, ``workflow_jobs`` the
jobs (with ``workflow_steps`` and ``workflow_strategy``), ``workflow_needs`` checks their graph.
"""

from __future__ import annotations

from pathlib import Path

from shipyard.core import errors
from shipyard.spec import (
    node_reader,
    workflow,
    workflow_expressions,
    workflow_extensions,
    workflow_jobs,
    workflow_needs,
    workflow_settings,
    workflow_triggers,
    yamlsource,
)
from shipyard.spec import workflow_schema as schema

_ON_HINT = "add the events that start it, e.g. `on: push`"
_JOBS_HINT = "add `jobs:` with at least one job"
_EMPTY_HINT = "a workflow needs at least `on` (its events) and `jobs`; see docs/workflows.md"


def load_workflow(text: str, *, path: str) -> workflow.Workflow:
    """Validate a workflow's text; ``path`` is the file as shown in locations.

    Raises ``errors.SpecErrors`` holding every problem found, sorted by position.
    """
    reader, mapping = node_reader.open_document(
        text,
        path=path,
        noun="workflow",
        expected="a mapping with `on` and `jobs`",
        empty_hint=_EMPTY_HINT,
    )
    loaded = _read_workflow(reader, mapping)
    problems = errors.SpecErrors.collect(reader.errors)
    if problems is not None:
        raise problems
    return loaded


def load_workflow_file(file: Path, *, display_path: str | None = None) -> workflow.Workflow:
    """Read and validate a workflow file; errors show ``display_path`` (default: ``file``)."""
    shown = display_path if display_path is not None else str(file)
    text = node_reader.read_text(
        file,
        shown=shown,
        noun="workflow file",
        missing_hint="check that the file exists and is readable",
    )
    return load_workflow(text, path=shown)


def _read_workflow(
    reader: node_reader.NodeReader, mapping: yamlsource.MappingNode
) -> workflow.Workflow:
    reader.check_keys(mapping, "", schema.WORKFLOW_KEYS)
    entries = mapping.entries
    locations: dict[str, errors.SourceLocation] = {"": mapping.location}
    for key, entry in entries.items():
        locations[key] = entry.value.location

    def node(key: str) -> yamlsource.Node | None:
        entry = entries.get(key)
        return entry.value if entry is not None else None

    triggers = workflow.Triggers(events={})
    if reader.require(mapping, "", "on", _ON_HINT, known=schema.WORKFLOW_KEYS):
        triggers = workflow_triggers.read_triggers(reader, entries["on"].value, locations)
    jobs: dict[str, workflow.Job] = {}
    if reader.require(mapping, "", "jobs", _JOBS_HINT, known=schema.WORKFLOW_KEYS):
        jobs = workflow_jobs.read_jobs(reader, entries["jobs"].value)
        workflow_needs.check_needs(reader, jobs)
    _text(reader, node("description"), "description", None)  # checked, not modelled
    env_node, defaults_node = node("env"), node("defaults")
    concurrency_node, permissions_node = node("concurrency"), node("permissions")
    return workflow.Workflow(
        path=reader.file,
        source=workflow.SourceMap(reader.file, "", locations),
        on=triggers,
        jobs=jobs,
        name=_text(reader, node("name"), "name", None),
        run_name=_text(reader, node("run-name"), "run-name", "run-name"),
        env=(
            workflow_settings.read_env(reader, env_node, "", "env", locations)
            if env_node is not None
            else {}
        ),
        defaults=(
            workflow_settings.read_defaults(reader, defaults_node, "", None, locations)
            if defaults_node is not None
            else workflow.RunDefaults()
        ),
        concurrency=(
            workflow_settings.read_concurrency(
                reader, concurrency_node, "", "concurrency", locations
            )
            if concurrency_node is not None
            else None
        ),
        permissions=(
            workflow_settings.read_permissions(reader, permissions_node, "", locations)
            if permissions_node is not None
            else None
        ),
        x_shipyard=_extensions(reader, node("x-shipyard")),
    )


def _extensions(
    reader: node_reader.NodeReader, node: yamlsource.Node | None
) -> workflow.Extensions:
    found = workflow_extensions.read_extensions(reader, node, "") if node is not None else None
    return found if found is not None else workflow.Extensions()


def _text(
    reader: node_reader.NodeReader,
    node: yamlsource.Node | None,
    key: str,
    key_pattern: str | None,
) -> str | None:
    if node is None:
        return None
    value = reader.string(node, key)
    if value is not None and key_pattern is not None:
        workflow_expressions.check(reader, value, key_pattern, node.location, key)
    return value
