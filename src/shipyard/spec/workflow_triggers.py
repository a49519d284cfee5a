"""Reading a workflow's ``on:`` section into ``workflow.Triggers``. Pure: no I/O.

``on`` is an event name, a list of them, or a mapping of events to their filters. Filters are
checked per event (``tags`` only on ``push``, activity ``types`` against the event's own list,
never ``branches`` with ``branches-ignore``); ``workflow_dispatch`` and ``workflow_call`` inputs
are typed and their defaults checked against the type; schedules are checked as cron.
"""

from __future__ import annotations

from shipyard.core import errors, suggest
from shipyard.spec import cron, node_reader, workflow, workflow_expressions, yamlsource
from shipyard.spec import workflow_schema as schema
from shipyard.spec.node_reader import join

Locations = dict[str, errors.SourceLocation]

_CALL_DEFAULT = "on.workflow_call.inputs.<inputs_id>.default"
_CALL_OUTPUT = "on.workflow_call.outputs.<output_id>.value"


def read_triggers(
    reader: node_reader.NodeReader, node: yamlsource.Node, locations: Locations
) -> workflow.Triggers:
    """The triggers of ``on``; problems go to ``reader``, positions to ``locations``."""
    builder = _Triggers(reader, locations)
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
            self.dispatch_inputs = self._inputs(entry.value, join(path, "inputs"), call=False)

    def _call(self, mapping: yamlsource.MappingNode, path: str) -> None:
        self.reader.check_keys(mapping, path, schema.WORKFLOW_CALL_KEYS)
        entries = mapping.entries
        inputs = entries.get("inputs")
        outputs = entries.get("outputs")
        secrets = entries.get("secrets")
        self.workflow_call = workflow.WorkflowCall(
            inputs=self._inputs(inputs.value, join(path, "inputs"), call=True) if inputs else {},
            outputs=self._outputs(outputs.value, join(path, "outputs")) if outputs else {},
            secrets=self._secrets(secrets.value, join(path, "secrets")) if secrets else {},
        )

    def _named_mappings(
        self, node: yamlsource.Node, path: str, noun: str, allowed: frozenset[str]
    ) -> list[tuple[str, str, yamlsource.MappingNode | None]]:
        """Entries of a mapping of ``noun``s: (name, key path, mapping or None when null)."""
        mapping = self.reader.mapping(node, path, f"a mapping of {noun}s")
        if mapping is None:
            return []
        found: list[tuple[str, str, yamlsource.MappingNode | None]] = []
        for name, entry in mapping.entries.items():
            key_path = join(path, name)
            self.locations[key_path] = entry.key_location
            if not schema.ID_PATTERN.fullmatch(name):
                self.reader.error(
                    entry.key_location,
                    key_path,
                    f"invalid {noun} name `{name}`",
                    "start with a letter or `_`, then use letters, digits, `-` and `_`",
                )
            value = entry.value
            if isinstance(value, yamlsource.ScalarNode) and value.value is None:
                found.append((name, key_path, None))
                continue
            details = self.reader.mapping(value, key_path)
            if details is not None:
                self.reader.check_keys(details, key_path, allowed)
                found.append((name, key_path, details))
        return found

    def _inputs(
        self, node: yamlsource.Node, path: str, *, call: bool
    ) -> dict[str, workflow.InputSpec]:
        allowed = schema.CALL_INPUT_KEYS if call else schema.DISPATCH_INPUT_KEYS
        inputs = {}
        for name, key_path, details in self._named_mappings(node, path, "input", allowed):
            if details is None:
                if call:
                    self.reader.error(
                        self.locations[key_path], key_path, "missing `type`", _TYPE_HINT
                    )
                else:
                    inputs[name] = workflow.InputSpec(name=name, type="string")
                continue
            spec = _InputReader(self.reader, details, key_path, call=call).read(name)
            if spec is not None:
                inputs[name] = spec
        return inputs

    def _outputs(self, node: yamlsource.Node, path: str) -> dict[str, workflow.CallOutput]:
        outputs = {}
        for name, key_path, details in self._named_mappings(
            node, path, "output", schema.CALL_OUTPUT_KEYS
        ):
            if details is None:
                self.reader.error(
                    self.locations[key_path], key_path, "missing `value`", _VALUE_HINT
                )
                continue
            if not self.reader.require(details, key_path, "value", _VALUE_HINT):
                continue
            value_node = details.entries["value"].value
            value_path = join(key_path, "value")
            value = self.reader.string(value_node, value_path)
            if value is None:
                continue
            workflow_expressions.check(
                self.reader, value, _CALL_OUTPUT, value_node.location, value_path
            )
            outputs[name] = workflow.CallOutput(
                name=name, value=value, description=_description(self.reader, details, key_path)
            )
        return outputs

    def _secrets(self, node: yamlsource.Node, path: str) -> dict[str, workflow.CallSecret]:
        secrets = {}
        for name, key_path, details in self._named_mappings(
            node, path, "secret", schema.CALL_SECRET_KEYS
        ):
            required = False
            if details is not None and "required" in details.entries:
                read = self.reader.boolean(
                    details.entries["required"].value, join(key_path, "required")
                )
                required = read is True
            description = (
                _description(self.reader, details, key_path) if details is not None else None
            )
            secrets[name] = workflow.CallSecret(
                name=name, required=required, description=description
            )
        return secrets


_TYPE_HINT = "add `type: string` (or `boolean`, `number`)"
_VALUE_HINT = "add `value: ${{ jobs.<job_id>.outputs.<name> }}`"


def _description(
    reader: node_reader.NodeReader, details: yamlsource.MappingNode, path: str
) -> str | None:
    entry = details.entries.get("description")
    return reader.string(entry.value, join(path, "description")) if entry else None


class _InputReader:
    """One input of ``workflow_dispatch`` (``call=False``) or ``workflow_call``."""

    def __init__(
        self,
        reader: node_reader.NodeReader,
        details: yamlsource.MappingNode,
        path: str,
        *,
        call: bool,
    ) -> None:
        self.reader = reader
        self.details = details
        self.path = path
        self.call = call

    def read(self, name: str) -> workflow.InputSpec | None:
        entries = self.details.entries
        kind = self._type()
        if kind is None:
            return None
        required = False
        if "required" in entries:
            required = self.reader.boolean(entries["required"].value, self._at("required")) is True
        options = self._options(kind)
        default = self._default(kind, options)
        return workflow.InputSpec(
            name=name,
            type=kind,
            required=required,
            description=_description(self.reader, self.details, self.path),
            default=default,
            options=tuple(options),
        )

    def _at(self, key: str) -> str:
        return join(self.path, key)

    def _type(self) -> schema.InputType | None:
        types = schema.CALL_INPUT_TYPES if self.call else schema.DISPATCH_INPUT_TYPES
        entry = self.details.entries.get("type")
        if entry is None:
            if self.call:
                self.reader.error(self.details.location, self.path, "missing `type`", _TYPE_HINT)
                return None
            return "string"
        kind = self.reader.choice(entry.value, self._at("type"), types, noun="input type")
        return _input_type(kind) if kind is not None else None

    def _options(self, kind: str) -> list[str]:
        entry = self.details.entries.get("options")
        if entry is None:
            if kind == "choice":
                self.reader.error(
                    self.details.location,
                    self.path,
                    "a `choice` input needs `options`",
                    "add `options: [first, second]`",
                )
            return []
        if kind != "choice":
            self.reader.error(
                entry.key_location,
                self._at("options"),
                f"`options` only applies to `choice` inputs, not `{kind}`",
                "set `type: choice`, or remove `options`",
            )
            return []
        items = self.reader.sequence(entry.value, self._at("options"), "a list of strings")
        if items is None:
            return []
        if not items.items:
            self.reader.error(
                entry.value.location, self._at("options"), "`options` is empty", "list the choices"
            )
        options = []
        for index, item in enumerate(items.items):
            text = self.reader.string(item, f"{self._at('options')}[{index}]")
            if text is not None:
                options.append(text)
        return options

    def _default(self, kind: str, options: list[str]) -> workflow.Value:
        entry = self.details.entries.get("default")
        if entry is None:
            return None
        node = entry.value
        path = self._at("default")
        if not isinstance(node, yamlsource.ScalarNode) or node.value is None:
            self.reader.wrong_type(node, path, f"a {kind} default")
            return None
        value = node.value
        if self.call and node_reader.is_expression(value):
            workflow_expressions.check(self.reader, value, _CALL_DEFAULT, node.location, path)
            return value
        if kind == "boolean" and not isinstance(value, bool):
            self.reader.wrong_type(node, path, "`true` or `false` (the input is a boolean)")
            return None
        if kind == "number" and (isinstance(value, bool) or not isinstance(value, int | float)):
            self.reader.wrong_type(node, path, "a number (the input is a number)")
            return None
        if kind in {"string", "choice", "environment"} and not isinstance(value, str):
            value = node.text
        if kind == "choice" and options and value not in options:
            self.reader.error(
                node.location,
                path,
                f"the default `{value}` is not one of the options",
                suggest.did_you_mean(str(value), options, noun="option"),
            )
            return None
        return value


def _input_type(kind: str) -> schema.InputType:
    for known in schema.DISPATCH_INPUT_TYPES:
        if kind == known:
            return known
    raise AssertionError(kind)  # pragma: no cover - the reader checked the name
