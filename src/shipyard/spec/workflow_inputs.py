"""Reading the interfaces of ``workflow_dispatch`` and ``workflow_call``: inputs, outputs, secrets.

Inputs are typed (``string``, ``boolean``, ``number``, and for ``workflow_dispatch`` also
``choice`` and ``environment``) and their defaults must match the type; a ``choice`` needs its
``options``. Names follow GitHub's id rules. Pure: no I/O.
"""

from __future__ import annotations

from shipyard.core import errors, suggest
from shipyard.spec import node_reader, workflow, workflow_expressions, yamlsource
from shipyard.spec import workflow_schema as schema
from shipyard.spec.node_reader import join

Locations = dict[str, errors.SourceLocation]

_CALL_DEFAULT = "on.workflow_call.inputs.<inputs_id>.default"
_CALL_OUTPUT = "on.workflow_call.outputs.<output_id>.value"


def _named_mappings(
    reader: node_reader.NodeReader,
    locations: Locations,
    node: yamlsource.Node,
    path: str,
    *,
    noun: str,
    allowed: frozenset[str],
) -> list[tuple[str, str, yamlsource.MappingNode | None]]:
    """Entries of a mapping of ``noun``s: (name, key path, mapping or None when null)."""
    mapping = reader.mapping(node, path, f"a mapping of {noun}s")
    if mapping is None:
        return []
    found: list[tuple[str, str, yamlsource.MappingNode | None]] = []
    for name, entry in mapping.entries.items():
        key_path = join(path, name)
        locations[key_path] = entry.key_location
        if not schema.ID_PATTERN.fullmatch(name):
            reader.error(
                entry.key_location,
                key_path,
                f"invalid {noun} name `{name}`",
                "start with a letter or `_`, then use letters, digits, `-` and `_`",
            )
        value = entry.value
        if isinstance(value, yamlsource.ScalarNode) and value.value is None:
            found.append((name, key_path, None))
            continue
        details = reader.mapping(value, key_path)
        if details is not None:
            reader.check_keys(details, key_path, allowed)
            found.append((name, key_path, details))
    return found


def read_inputs(
    reader: node_reader.NodeReader,
    node: yamlsource.Node,
    path: str,
    locations: Locations,
    *,
    call: bool,
) -> dict[str, workflow.InputSpec]:
    """The inputs of ``workflow_call`` (``call``) or ``workflow_dispatch``, by name."""
    allowed = schema.CALL_INPUT_KEYS if call else schema.DISPATCH_INPUT_KEYS
    inputs = {}
    for name, key_path, details in _named_mappings(
        reader, locations, node, path, noun="input", allowed=allowed
    ):
        if details is None:
            if call:
                reader.error(locations[key_path], key_path, "missing `type`", _TYPE_HINT)
            else:
                inputs[name] = workflow.InputSpec(name=name, type="string")
            continue
        spec = _InputReader(reader, details, key_path, call=call).read(name)
        if spec is not None:
            inputs[name] = spec
    return inputs


def read_outputs(
    reader: node_reader.NodeReader, node: yamlsource.Node, path: str, locations: Locations
) -> dict[str, workflow.CallOutput]:
    """The outputs of ``workflow_call``: each needs a ``value`` (an expression over ``jobs``)."""
    outputs = {}
    for name, key_path, details in _named_mappings(
        reader, locations, node, path, noun="output", allowed=schema.CALL_OUTPUT_KEYS
    ):
        if details is None:
            reader.error(locations[key_path], key_path, "missing `value`", _VALUE_HINT)
            continue
        if not reader.require(details, key_path, "value", _VALUE_HINT):
            continue
        value_node = details.entries["value"].value
        value_path = join(key_path, "value")
        value = reader.string(value_node, value_path)
        if value is None:
            continue
        workflow_expressions.check(reader, value, _CALL_OUTPUT, value_node.location, value_path)
        outputs[name] = workflow.CallOutput(
            name=name, value=value, description=_description(reader, details, key_path)
        )
    return outputs


def read_secrets(
    reader: node_reader.NodeReader, node: yamlsource.Node, path: str, locations: Locations
) -> dict[str, workflow.CallSecret]:
    """The secrets ``workflow_call`` declares (each null, or ``description`` and ``required``)."""
    secrets = {}
    for name, key_path, details in _named_mappings(
        reader, locations, node, path, noun="secret", allowed=schema.CALL_SECRET_KEYS
    ):
        required = False
        if details is not None and "required" in details.entries:
            read = reader.boolean(details.entries["required"].value, join(key_path, "required"))
            required = read is True
        description = _description(reader, details, key_path) if details is not None else None
        secrets[name] = workflow.CallSecret(name=name, required=required, description=description)
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
