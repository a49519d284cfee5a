"""Reading a job's ``steps`` into ``workflow.Step`` values. Pure: no I/O.

A step either runs a command (``run``, with ``shell`` and ``working-directory``) or uses an action
(``uses``, with ``with``), never both. Step ids follow GitHub's rules and are unique within their
job, compared without case as the ``steps`` context compares them. ``uses`` must name an action
Shipyard can look for: ``owner/repo@ref``, ``owner/repo/path@ref`` or ``./local/path``.
"""

from __future__ import annotations

import re

from shipyard.core import errors
from shipyard.spec import node_reader, workflow, workflow_expressions, workflow_settings, yamlsource
from shipyard.spec import workflow_schema as schema
from shipyard.spec.node_reader import join

_REMOTE_ACTION = re.compile(r"[^/@\s]+/[^/@\s]+(?:/[^@\s]+)?@[^@\s]+")
_STEPS = "jobs.<job_id>.steps."
_ACTION_FORMS = "write `owner/repo@ref`, `owner/repo/path@ref` or `./path/to/action`"


def read_steps(
    reader: node_reader.NodeReader, node: yamlsource.Node, job_path: str
) -> tuple[workflow.Step, ...]:
    """Every valid step of a job; the ids of steps seen so far guard against duplicates."""
    path = join(job_path, "steps")
    items = reader.sequence(node, path, "a list of steps")
    if items is None:
        return ()
    if not items.items:
        reader.error(node.location, path, "the job has no steps", _NO_STEPS_HINT)
        return ()
    ids: dict[str, errors.SourceLocation] = {}
    steps = []
    for index, item in enumerate(items.items):
        step = _StepReader(reader, f"{path}[{index}]", ids).read(index, item)
        if step is not None:
            steps.append(step)
    return tuple(steps)


_MISPLACED_HINTS = {
    "with": "remove `with`; a `run` step takes values through `env`",
    "shell": "remove `shell`; an action chooses how it runs",
    "working-directory": "remove `working-directory`; an action runs in the workspace",
}
_NO_STEPS_HINT = "add a step with `run` or `uses`, or remove the job"


def check_id(
    reader: node_reader.NodeReader,
    identifier: str,
    location: errors.SourceLocation,
    path: str,
    noun: str,
) -> bool:
    """GitHub's rules for job and step ids; False (after reporting) when one is broken."""
    if not schema.ID_PATTERN.fullmatch(identifier) or len(identifier) >= schema.ID_MAX_LENGTH:
        reader.error(
            location,
            path,
            f"invalid {noun} id `{identifier}`",
            "start with a letter or `_`, then use letters, digits, `-` and `_` "
            f"(fewer than {schema.ID_MAX_LENGTH} characters)",
        )
        return False
    if identifier.startswith("__"):
        reader.error(
            location,
            path,
            f"invalid {noun} id `{identifier}`: ids starting with `__` are reserved",
            "remove the leading underscores",
        )
        return False
    return True


class _StepReader:
    """One step; ``ids`` maps the lower-cased ids of earlier steps to where they were set."""

    def __init__(
        self, reader: node_reader.NodeReader, path: str, ids: dict[str, errors.SourceLocation]
    ) -> None:
        self.reader = reader
        self.path = path
        self.ids = ids
        self.locations: dict[str, errors.SourceLocation] = {}
        self.entries: dict[str, yamlsource.Entry] = {}

    def read(self, index: int, node: yamlsource.Node) -> workflow.Step | None:
        reader = self.reader
        mapping = reader.mapping(node, self.path, "a step (a mapping with `run` or `uses`)")
        if mapping is None:
            return None
        self.locations[""] = mapping.location
        reader.check_keys(mapping, self.path, schema.STEP_KEYS, schema.UNSUPPORTED_STEP_KEYS)
        entries = self.entries = mapping.entries
        for key, entry in entries.items():
            if key in schema.STEP_KEYS:
                self.locations[key] = entry.value.location
        run = self._string("run", "run")
        uses = self._uses(entries.get("uses"))
        self._check_kind(mapping)
        return workflow.Step(
            index=index,
            source=workflow.SourceMap(reader.file, self.path, self.locations),
            id=self._id(entries.get("id")),
            name=self._string("name", "name"),
            if_=self._condition(entries.get("if")),
            run=run,
            uses=uses,
            with_=self._mapping(entries.get("with"), "with"),
            env=self._mapping(entries.get("env"), "env"),
            shell=self._shell(entries.get("shell")),
            working_directory=self._string("working-directory", "working-directory", True),
            continue_on_error=self._continue_on_error(entries.get("continue-on-error")),
            timeout_minutes=self._timeout(entries.get("timeout-minutes")),
        )

    # -- the kind of step --

    def _check_kind(self, mapping: yamlsource.MappingNode) -> None:
        entries = mapping.entries
        if "run" in entries and "uses" in entries:
            self.reader.error(
                entries["uses"].key_location,
                join(self.path, "uses"),
                "a step cannot have both `run` and `uses`",
                "split it into two steps",
            )
        elif "run" not in entries and "uses" not in entries:
            self.reader.error(
                mapping.location,
                self.path,
                "a step needs `run` or `uses`",
                "add `run: <command>` or `uses: owner/repo@ref`",
            )
        for key, needs in (("with", "uses"), ("shell", "run"), ("working-directory", "run")):
            if key in entries and needs not in entries and ("run" in entries or "uses" in entries):
                self.reader.error(
                    entries[key].key_location,
                    join(self.path, key),
                    f"`{key}` only applies to a step with `{needs}`",
                    _MISPLACED_HINTS[key],
                )

    # -- keys --

    def _string(self, key: str, pattern: str, non_empty: bool = False) -> str | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        path = join(self.path, key)
        value = self.reader.string(entry.value, path, non_empty=non_empty)
        if value is not None:
            workflow_expressions.check(
                self.reader, value, _STEPS + pattern, entry.value.location, path
            )
        return value

    def _id(self, entry: yamlsource.Entry | None) -> str | None:
        if entry is None:
            return None
        path = join(self.path, "id")
        node = entry.value
        identifier = self.reader.string(node, path, strict=True, non_empty=True)
        if identifier is None or not check_id(self.reader, identifier, node.location, path, "step"):
            return None
        first = self.ids.get(identifier.lower())
        if first is not None:
            self.reader.error(
                node.location,
                path,
                f"duplicate step id `{identifier}`",
                f"another step of this job has that id, at line {first.line}, column "
                f"{first.column}; step ids must be unique within a job (ignoring case)",
            )
            return None
        self.ids[identifier.lower()] = node.location
        return identifier

    def _condition(self, entry: yamlsource.Entry | None) -> str | None:
        if entry is None:
            return None
        return workflow_settings.read_condition(
            self.reader, entry.value, join(self.path, "if"), _STEPS + "if"
        )

    def _uses(self, entry: yamlsource.Entry | None) -> str | None:
        if entry is None:
            return None
        path = join(self.path, "uses")
        node = entry.value
        uses = self.reader.string(node, path, strict=True, non_empty=True)
        if uses is None:
            return None
        problem = action_reference_problem(uses)
        if problem is not None:
            self.reader.error(node.location, path, *problem)
            return None
        return uses

    def _mapping(self, entry: yamlsource.Entry | None, key: str) -> dict[str, workflow.Value]:
        if entry is None:
            return {}
        return workflow_settings.read_env(
            self.reader, entry.value, self.path, _STEPS + key, self.locations, key=key
        )

    def _shell(self, entry: yamlsource.Entry | None) -> str | None:
        if entry is None:
            return None
        return workflow_settings.read_shell(
            self.reader, entry.value, join(self.path, "shell"), None
        )

    def _continue_on_error(self, entry: yamlsource.Entry | None) -> bool | str:
        if entry is None:
            return False
        path = join(self.path, "continue-on-error")
        value = self.reader.boolean(entry.value, path, expression=True)
        workflow_expressions.check(
            self.reader, value, _STEPS + "continue-on-error", entry.value.location, path
        )
        return value if value is not None else False

    def _timeout(self, entry: yamlsource.Entry | None) -> float | str | None:
        if entry is None:
            return None
        path = join(self.path, "timeout-minutes")
        value = self.reader.number(entry.value, path, expression=True, above=0)
        workflow_expressions.check(
            self.reader, value, _STEPS + "timeout-minutes", entry.value.location, path
        )
        return value


def action_reference_problem(uses: str) -> tuple[str, str] | None:
    """(what is wrong, what to do) with a step's ``uses``, or None when Shipyard can look it up."""
    if uses.startswith("docker://"):
        return (
            "`docker://` actions are not supported: Shipyard runs steps on the host",
            "use an action from a repository, or a `run` step; see docs/compatibility.md",
        )
    if node_reader.is_expression(uses):
        return ("expressions are not allowed in `uses`", _ACTION_FORMS)
    if uses.startswith("./"):
        if uses.rstrip("/") == ".":
            return ("`./` names no action directory", "write the path, e.g. `./.github/actions/x`")
        return None
    if _REMOTE_ACTION.fullmatch(uses):
        return None
    if "@" not in uses and uses.count("/") >= 1:
        return (f"`{uses}` names no version", f"pin one, e.g. `{uses}@v4`")
    return (f"invalid action reference `{uses}`", _ACTION_FORMS)
