"""``config`` and ``vars`` of ``shipyard.yaml``: layered values, optional types. Pure: no I/O.

Top-level ``config`` gives every environment its values; ``environments.<env>.config`` overrides
them. A top-level entry may declare a type instead of a plain value::

    config:
      LOG_LEVEL: { type: enum, values: [debug, info, warn], default: info }
      WORKERS: { type: int, default: 4 }
      API_URL: { type: url }          # no default: every environment must set it

Values may use ``${{ secrets.NAME }}`` and ``${{ vars.NAME }}``; ``vars`` (top level, overridden
per environment) are plain, non-secret values, also given to workflow runs of that environment.
Literal values are type-checked here, at file:line:col; values from expressions are checked when
``shipyard.secrets.config`` resolves them. Types only check: every value stays the string a
process sees.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import field
from typing import Literal, cast, get_args

from shipyard.core import errors
from shipyard.core.frozen import frozen
from shipyard.spec import node_reader, project_values, workflow, yamlsource
from shipyard.spec.node_reader import join

ConfigType = Literal["string", "int", "bool", "url", "duration", "enum"]
TYPES: tuple[str, ...] = get_args(ConfigType)
DECLARATION_KEYS = frozenset({"type", "default", "values"})
_INT = re.compile(r"[+-]?[0-9]+\Z")
_DURATION = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h|d))+\Z")
_EXPRESSION_CONTEXTS = re.compile(r"\b(secrets|vars|resources)\s*(?:\.|\[)")
ALLOWED_CONTEXTS = frozenset({"secrets", "vars"})


@frozen
class Declaration:
    """A config key's declared type; ``choices`` lists an enum's values."""

    name: str
    type: ConfigType
    choices: tuple[str, ...] = ()
    required: bool = False
    """No default: every environment must give a value."""


@frozen
class ConfigSpec:
    """What ``config`` and ``vars`` declare beyond their values (those are on ``Project``)."""

    declarations: Mapping[str, Declaration] = field(default_factory=dict)
    vars: Mapping[str, str] = field(default_factory=dict)
    environment_vars: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    locations: Mapping[str, errors.SourceLocation] = field(default_factory=dict)
    """``config.KEY`` and ``environments.ENV.config.KEY`` -> where the value is written."""

    def vars_for(self, environment: str) -> dict[str, str]:
        merged = dict(self.vars)
        merged.update(self.environment_vars.get(environment, {}))
        return merged

    def where(self, environment: str, key: str) -> tuple[errors.SourceLocation | None, str]:
        """Where ``key``'s value for ``environment`` is written, and its key path."""
        own = f"environments.{environment}.config.{key}"
        if own in self.locations:
            return self.locations[own], own
        return self.locations.get(f"config.{key}"), f"config.{key}"


def check(declaration: Declaration, value: str) -> str | None:
    """What is wrong with ``value`` for its declared type; None when it fits."""
    kind = declaration.type
    if kind == "int" and not _INT.match(value):
        return f"expected an integer, found `{value}`"
    if kind == "bool" and value not in ("true", "false"):
        return f"expected true or false, found `{value}`"
    if kind == "duration" and not _DURATION.match(value):
        return f"expected a duration like 30s, 5m or 1h30m, found `{value}`"
    if kind == "url":
        parts = urllib.parse.urlsplit(value)
        if not parts.scheme or not parts.netloc:
            return f"expected a URL like https://host/path, found `{value}`"
    if kind == "enum" and value not in declaration.choices:
        return f"expected one of {', '.join(declaration.choices)}, found `{value}`"
    return None


def read_top(
    reader: node_reader.NodeReader, mapping: yamlsource.MappingNode
) -> tuple[dict[str, str], ConfigSpec]:
    """Top-level ``config`` values (defaults) and the spec of ``config`` and ``vars`` throughout."""
    entries = mapping.entries
    values: dict[str, str] = {}
    declarations: dict[str, Declaration] = {}
    locations: dict[str, errors.SourceLocation] = {}
    if "config" in entries:
        values, declarations = _read_declared(reader, entries["config"].value, locations)
    top_vars = _read_plain(reader, entries["vars"].value, "vars") if "vars" in entries else {}
    environment_vars: dict[str, dict[str, str]] = {}
    environments = entries.get("environments")
    if environments is not None and isinstance(environments.value, yamlsource.MappingNode):
        for name, entry in environments.value.entries.items():
            if not isinstance(entry.value, yamlsource.MappingNode):
                continue
            own = entry.value.entries
            path = join("environments", name)
            if "vars" in own:
                environment_vars[name] = _read_plain(reader, own["vars"].value, join(path, "vars"))
            if "config" in own and isinstance(own["config"].value, yamlsource.MappingNode):
                _check_environment(reader, own["config"].value, path, declarations, locations)
    spec = ConfigSpec(declarations, top_vars, environment_vars, locations)
    return values, spec


def read_environment_config(
    reader: node_reader.NodeReader, node: yamlsource.Node, path: str
) -> dict[str, str]:
    """``environments.<env>.config``: plain values or ``${{ }}`` templates."""
    return _read_values(reader, node, path, {})


def _read_declared(
    reader: node_reader.NodeReader,
    node: yamlsource.Node,
    locations: dict[str, errors.SourceLocation],
) -> tuple[dict[str, str], dict[str, Declaration]]:
    mapping = reader.mapping(node, "config")
    if mapping is None:
        return {}, {}
    values: dict[str, str] = {}
    declarations: dict[str, Declaration] = {}
    plain_entries: dict[str, yamlsource.Entry] = {}
    for name, entry in mapping.entries.items():
        key_path = join("config", name)
        if not isinstance(entry.value, yamlsource.MappingNode):
            plain_entries[name] = entry
            continue
        declaration, default = _declaration(reader, name, entry.value, key_path)
        if declaration is None or not _check_name(reader, name, entry.value, key_path):
            continue
        declarations[name] = declaration
        if default is not None:
            values[name] = default
            locations[key_path] = entry.value.entries["default"].value.location
    plain = yamlsource.MappingNode(plain_entries, mapping.location)
    values.update(_read_values(reader, plain, "config", locations))
    ordered = {name: values[name] for name in mapping.entries if name in values}
    for name, value in ordered.items():
        if name in declarations and not node_reader.is_expression(value):
            _report(reader, declarations[name], value, locations[join("config", name)], name)
    return ordered, declarations


def _declaration(
    reader: node_reader.NodeReader, name: str, node: yamlsource.MappingNode, path: str
) -> tuple[Declaration | None, str | None]:
    reader.check_keys(node, path, DECLARATION_KEYS)
    if not reader.require(node, path, "type", f"declare a type: one of {', '.join(TYPES)}"):
        return None, None
    kind = reader.choice(node.entries["type"].value, join(path, "type"), TYPES)
    if kind is None:
        return None, None
    choices: tuple[str, ...] = ()
    if kind == "enum":
        if not reader.require(node, path, "values", "list the allowed values: `values: [a, b]`"):
            return None, None
        listed = reader.strings(node.entries["values"].value, join(path, "values")) or []
        choices = tuple(text for text, _ in listed)
    elif "values" in node.entries:
        reader.error(
            node.entries["values"].key_location,
            join(path, "values"),
            "`values` is only for `type: enum`",
            "remove it",
        )
    default = None
    if "default" in node.entries:
        found = _read_values(
            reader,
            yamlsource.MappingNode({name: node.entries["default"]}, node.location),
            path.rsplit(".", 1)[0],
            {},
        )
        default = found.get(name)
    declaration = Declaration(name, cast(ConfigType, kind), choices, required=default is None)
    return declaration, default


def _check_environment(
    reader: node_reader.NodeReader,
    node: yamlsource.MappingNode,
    path: str,
    declarations: Mapping[str, Declaration],
    locations: dict[str, errors.SourceLocation],
) -> None:
    for name, entry in node.entries.items():
        if not isinstance(entry.value, yamlsource.ScalarNode):
            continue
        locations[join(path, f"config.{name}")] = entry.value.location
        value = _as_text(entry.value)
        if name in declarations and not node_reader.is_expression(value):
            _report(
                reader, declarations[name], value, entry.value.location, f"{path}.config.{name}"
            )


def _report(
    reader: node_reader.NodeReader,
    declaration: Declaration,
    value: str,
    location: errors.SourceLocation,
    key_path: str,
) -> None:
    problem = check(declaration, value)
    if problem is not None:
        full = key_path if "." in key_path else join("config", key_path)
        reader.error(
            location, full, problem, f"`{declaration.name}` is declared `{declaration.type}`"
        )


def _read_values(
    reader: node_reader.NodeReader,
    node: yamlsource.Node,
    path: str,
    locations: dict[str, errors.SourceLocation],
) -> dict[str, str]:
    found = reader.scalar_map(node, path, values="config values")
    if found is None:
        return {}
    values: dict[str, str] = {}
    for name, (_, value_node) in found.items():
        key_path = join(path, name)
        if not _check_name(reader, name, value_node, key_path):
            continue
        text = _as_text(value_node)
        if node_reader.is_expression(text) and not _check_contexts(
            reader, text, value_node, key_path
        ):
            continue
        values[name] = text
        locations[key_path] = value_node.location
    return values


def _read_plain(reader: node_reader.NodeReader, node: yamlsource.Node, path: str) -> dict[str, str]:
    found = reader.scalar_map(node, path, values="vars")
    if found is None:
        return {}
    values = {}
    for name, (_, value_node) in found.items():
        text = _as_text(value_node)
        if node_reader.is_expression(text):
            reader.error(
                value_node.location, join(path, name), "`vars` hold plain values", "write the value"
            )
            continue
        values[name] = text
    return values


def _check_name(
    reader: node_reader.NodeReader, name: str, node: yamlsource.Node, key_path: str
) -> bool:
    if not project_values.VARIABLE_PATTERN.match(name):
        reader.error(
            node.location,
            key_path,
            f"invalid variable name `{name}`",
            "use letters, digits and underscores, not starting with a digit",
        )
        return False
    if name in project_values.RESERVED_VARIABLES:
        reader.error(
            node.location,
            key_path,
            f"`{name}` is set by Shipyard for each instance",
            "remove it; use `$PORT` in `run` to read the port",
        )
        return False
    return True


def _check_contexts(
    reader: node_reader.NodeReader, text: str, node: yamlsource.Node, key_path: str
) -> bool:
    from shipyard import expressions

    try:
        expressions.parse_template(text)
    except expressions.ExpressionError as error:
        reader.error(
            node.location, key_path, f"invalid expression: {error}", "see docs/expressions.md"
        )
        return False
    for found in _EXPRESSION_CONTEXTS.finditer(text):
        if found.group(1) not in ALLOWED_CONTEXTS:
            reader.error(
                node.location,
                key_path,
                f"`{found.group(1)}` is not supported in config yet",
                "use `secrets` or `vars`",
            )
            return False
    return True


def _as_text(node: yamlsource.ScalarNode) -> str:
    value: workflow.Scalar = node.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return node.text
    return "" if value is None else value
