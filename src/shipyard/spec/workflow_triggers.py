"""Reading a workflow's ``on:`` section into ``workflow.Triggers``. Pure: no I/O.

``on`` is an event name, a list of them, or a mapping of events to their filters. Filters are
checked per event (``tags`` only on ``push``, activity ``types`` against the event's own list,
never ``branches`` with ``branches-ignore``); schedules are checked as cron. The inputs, outputs
and secrets of ``workflow_dispatch`` and ``workflow_call`` are read by ``workflow_inputs``.
"""

from __future__ import annotations

from shipyard.core import errors, suggest
from shipyard.spec import cron, node_reader, workflow, workflow_inputs, yamlsource
from shipyard.spec import workflow_schema as schema
from shipyard.spec.node_reader import join

Locations = dict[str, errors.SourceLocation]


def read_triggers(
    reader: node_reader.NodeReader, node: yamlsource.Node, locations: Locations
) -> workflow.Triggers:
    """The triggers of ``on``; problems go to ``reader``, positions to ``locations``."""
    builder = _Triggers(reader, locations)
    if isinstance(node, yamlsource.MappingNode | yamlsource.SequenceNode) and node.size == 1:
        reader.error(
            node.location, "on", "`on` names no events", "name the events, e.g. `on: [push]`"
        )
    if isinstance(node, yamlsource.MappingNode):
        for name, entry in node.entries.items():
            builder.event(name, entry)
    elif isinstance(node, yamlsource.SequenceNode):
        for index, item in enumerate(node.items):
            builder.named_event(item, f"on[{index}]")
    elif isinstance(node, yamlsource.ScalarNode) and isinstance(node.value, str):
        builder.named_event(node, "on")
    else:
        reader.wrong_type(node, "on", "an event name, a list of events or a mapping of events")
    return builder.result()


class _Triggers:
    """Collects events while reading; one instance per ``on:``."""

    def __init__(self, reader: node_reader.NodeReader, locations: Locations) -> None:
        self.reader = reader
        self.locations = locations
        self.events: dict[str, dict[str, workflow.Value]] = {}
        self.dispatch_inputs: dict[str, workflow.InputSpec] = {}
        self.workflow_call: workflow.WorkflowCall | None = None
        self.schedules: list[str] = []

    def result(self) -> workflow.Triggers:
        return workflow.Triggers(
            events=self.events,
            dispatch_inputs=self.dispatch_inputs,
            workflow_call=self.workflow_call,
            schedules=tuple(self.schedules),
        )

    def _known(self, name: str, location: errors.SourceLocation, path: str) -> bool:
        if name in schema.EVENTS:
            return True
        self.reader.error(
            location, path, f"unknown event `{name}`", suggest.did_you_mean(name, schema.EVENTS)
        )
        return False

    def named_event(self, node: yamlsource.Node, path: str) -> None:
        """An event given by name only: ``on: push`` or an item of ``on: [push, ...]``."""
        name = self.reader.string(node, path, strict=True, non_empty=True)
        if name is None or not self._known(name, node.location, path):
            return
        if name == "schedule":
            self.reader.error(
                node.location,
                path,
                "`schedule` needs a list of cron expressions",
                "write `on: {schedule: [{cron: '0 3 * * *'}]}`",
            )
            return
        if name == "workflow_call":
            self.workflow_call = workflow.WorkflowCall()
        self.events[name] = {}
        self.locations[join("on", name)] = node.location

    def event(self, name: str, entry: yamlsource.Entry) -> None:
        """``name: <filters>`` inside the ``on:`` mapping."""
        path = join("on", name)
        if not self._known(name, entry.key_location, path):
            return
        node = entry.value
        self.locations[path] = entry.key_location
        self.events[name] = {}
        if name == "schedule":
            self._schedule(node, path)
            return
        if name == "workflow_call":
            self.workflow_call = workflow.WorkflowCall()
        if isinstance(node, yamlsource.ScalarNode) and node.value is None:
            return
        if name in schema.EVENTS_WITHOUT_FILTERS:
            self.reader.error(
                node.location,
                path,
                f"`{name}` takes no filters",
                f"write `{name}:` with nothing after it",
            )
            return
        mapping = self.reader.mapping(node, path, "a mapping of filters (or nothing)")
        if mapping is None:
            return
        if name == "workflow_dispatch":
            self._dispatch(mapping, path)
        elif name == "workflow_call":
            self._call(mapping, path)
        else:
            self.events[name] = self._filters(name, mapping, path)

    # -- filters --

    def _filters(
        self, name: str, mapping: yamlsource.MappingNode, path: str
    ) -> dict[str, workflow.Value]:
        allowed = schema.EVENT_FILTERS.get(name, ("types",))
        self.reader.check_keys(mapping, path, allowed)
        filters: dict[str, workflow.Value] = {}
        for key, entry in mapping.entries.items():
            if key not in allowed:
                continue
            key_path = join(path, key)
            self.locations[key_path] = entry.value.location
            found = self.reader.strings(entry.value, key_path)
            if found is None:
                continue
            if key == "types" and name in schema.ACTIVITY_TYPES:
                self._check_types(name, found, key_path)
            filters[key] = [text for text, _ in found]
        for include, exclude in schema.EXCLUSIVE_FILTERS:
            if include in mapping.entries and exclude in mapping.entries:
                self.reader.error(
                    mapping.entries[exclude].key_location,
                    join(path, exclude),
                    f"`{include}` and `{exclude}` cannot both filter one event",
                    f"use `{include}` alone, with `!` in front of the patterns to exclude",
                )
        return filters

    def _check_types(self, name: str, found: list[tuple[str, yamlsource.Node]], path: str) -> None:
        valid = schema.ACTIVITY_TYPES[name]
        for text, node in found:
            if text not in valid:
                self.reader.error(
                    node.location,
                    path,
                    f"`{name}` has no activity type `{text}`",
                    suggest.did_you_mean(text, valid, noun="type"),
                )

    # -- schedule --

    def _schedule(self, node: yamlsource.Node, path: str) -> None:
        items = self.reader.sequence(node, path, "a list of `cron:` entries")
        if items is None:
            return
        for index, item in enumerate(items.items):
            item_path = f"{path}[{index}]"
            mapping = self.reader.mapping(item, item_path, "a mapping with `cron`")
            if mapping is None:
                continue
            self.reader.check_keys(
                mapping, item_path, schema.SCHEDULE_KEYS, schema.UNSUPPORTED_SCHEDULE_KEYS
            )
            if not self.reader.require(mapping, item_path, "cron", "add `cron: '0 3 * * *'`"):
                continue
            cron_node = mapping.entries["cron"].value
            cron_path = join(item_path, "cron")
            expression = self.reader.string(cron_node, cron_path, strict=True, non_empty=True)
            if expression is None:
                continue
            try:
                cron.check(expression)
            except cron.CronError as problem:
                self.reader.error(
                    cron_node.location,
                    cron_path,
                    f"invalid cron expression `{expression}`: {problem}",
                    cron.FIELDS_HINT,
                )
                continue
            self.locations[cron_path] = cron_node.location
            self.schedules.append(expression)

    # -- workflow_dispatch and workflow_call --

    def _dispatch(self, mapping: yamlsource.MappingNode, path: str) -> None:
        self.reader.check_keys(mapping, path, schema.WORKFLOW_DISPATCH_KEYS)
        entry = mapping.entries.get("inputs")
        if entry is not None:
            self.dispatch_inputs = workflow_inputs.read_inputs(
                self.reader, entry.value, join(path, "inputs"), self.locations, call=False
            )

    def _call(self, mapping: yamlsource.MappingNode, path: str) -> None:
        self.reader.check_keys(mapping, path, schema.WORKFLOW_CALL_KEYS)
        entries = mapping.entries
        inputs = entries.get("inputs")
        outputs = entries.get("outputs")
        secrets = entries.get("secrets")
        reader, locations = self.reader, self.locations
        self.workflow_call = workflow.WorkflowCall(
            inputs=(
                workflow_inputs.read_inputs(
                    reader, inputs.value, join(path, "inputs"), locations, call=True
                )
                if inputs
                else {}
            ),
            outputs=(
                workflow_inputs.read_outputs(
                    reader, outputs.value, join(path, "outputs"), locations
                )
                if outputs
                else {}
            ),
            secrets=(
                workflow_inputs.read_secrets(
                    reader, secrets.value, join(path, "secrets"), locations
                )
                if secrets
                else {}
            ),
        )
