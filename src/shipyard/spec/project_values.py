"""Values shared by the readers of ``shipyard.yaml``: names, variables and ports. Pure."""

from __future__ import annotations

import re

from shipyard.core import errors
from shipyard.spec import node_reader, workflow, yamlsource
from shipyard.spec.node_reader import join

NAME_PATTERN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?\Z")
"""App, service and environment names: they appear in host names and directory names."""
NAME_RULE = "lower-case letters, digits and inner dashes, at most 40 characters"
VARIABLE_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
RESERVED_VARIABLES = frozenset({"PORT"})


def read_name(reader: node_reader.NodeReader, node: yamlsource.Node, path: str) -> str | None:
    """An app, service or environment name."""
    value = reader.string(node, path, strict=True, non_empty=True)
    if value is None:
        return None
    if not NAME_PATTERN.match(value):
        reader.error(node.location, path, f"invalid name `{value}`", f"use {NAME_RULE}")
        return None
    return value


def check_key_name(
    reader: node_reader.NodeReader, name: str, location: errors.SourceLocation, path: str
) -> bool:
    """A service or environment name written as a mapping key."""
    if NAME_PATTERN.match(name):
        return True
    reader.error(location, path, f"invalid name `{name}`", f"use {NAME_RULE}")
    return False


def read_variables(
    reader: node_reader.NodeReader, node: yamlsource.Node, path: str
) -> dict[str, str]:
    """Environment variables: names to plain values, each turned into the string a process sees."""
    found = reader.scalar_map(node, path, values="config values")
    if found is None:
        return {}
    variables: dict[str, str] = {}
    for name, (value, value_node) in found.items():
        key_path = join(path, name)
        if not VARIABLE_PATTERN.match(name):
            reader.error(
                value_node.location,
                key_path,
                f"invalid variable name `{name}`",
                "use letters, digits and underscores, not starting with a digit",
            )
            continue
        if name in RESERVED_VARIABLES:
            reader.error(
                value_node.location,
                key_path,
                f"`{name}` is set by Shipyard for each instance",
                "remove it; use `$PORT` in `run` to read the port",
            )
            continue
        if node_reader.is_expression(value):
            reader.error(
                value_node.location,
                key_path,
                "expressions are not supported in config yet",
                "write the plain value",
            )
            continue
        variables[name] = _as_text(value, value_node)
    return variables


def _as_text(value: workflow.Scalar, node: yamlsource.ScalarNode) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return node.text
    return "" if value is None else value


def read_port(reader: node_reader.NodeReader, node: yamlsource.Node, path: str) -> int | None:
    """A TCP port from 1 to 65535."""
    value = reader.number(node, path, kind="integer")
    if not isinstance(value, int):
        return None
    if not 1 <= value <= 65535:
        reader.error(node.location, path, f"expected a port from 1 to 65535, found `{value}`")
        return None
    return value
