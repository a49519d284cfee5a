"""Settings a workflow, its jobs and their steps share: env, defaults, concurrency, permissions.

Each reader takes the node, the key path of the owning object and its ``locations`` (the map that
becomes the object's ``SourceMap``), records problems on the ``NodeReader`` and returns the typed
value, or None when the value was unusable. Pure: no I/O.
"""

from __future__ import annotations

from shipyard.core import errors, suggest
from shipyard.spec import node_reader, workflow, workflow_expressions, yamlsource
from shipyard.spec import workflow_schema as schema
from shipyard.spec.node_reader import join

Locations = dict[str, errors.SourceLocation]


def read_env(
    reader: node_reader.NodeReader,
    node: yamlsource.Node,
    owner: str,
    key_pattern: str,
    locations: Locations,
    *,
    key: str = "env",
) -> dict[str, workflow.Value]:
    """A mapping of names to scalars (``env``, a step's ``with``); types are kept as written."""
    path = join(owner, key)
    found = reader.scalar_map(node, path)
    if found is None:
        return {}
    values: dict[str, workflow.Value] = {}
    for name, (value, value_node) in found.items():
        name_path = join(path, name)
        locations[join(key, name)] = value_node.location
        workflow_expressions.check(reader, value, key_pattern, value_node.location, name_path)
        values[name] = value
    return values


def read_strings(
    reader: node_reader.NodeReader,
    node: yamlsource.Node,
    owner: str,
    key_pattern: str,
    locations: Locations,
    *,
    key: str,
) -> dict[str, str]:
    """A mapping of names to strings (job ``outputs``, ``secrets``); numbers become their text."""
    values = read_env(reader, node, owner, key_pattern, locations, key=key)
    return {name: _text(value) for name, value in values.items()}


def _text(value: workflow.Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def read_defaults(
    reader: node_reader.NodeReader,
    node: yamlsource.Node,
    owner: str,
    key_pattern: str | None,
    locations: Locations,
) -> workflow.RunDefaults:
    """``defaults.run``: shell and working directory (``key_pattern`` None: no expressions)."""
    path = join(owner, "defaults")
    mapping = reader.mapping(node, path)
    if mapping is None:
        return workflow.RunDefaults()
    reader.check_keys(mapping, path, schema.DEFAULTS_KEYS)
    run_entry = mapping.entries.get("run")
    if run_entry is None:
        return workflow.RunDefaults()
    run_path = join(path, "run")
    run = reader.mapping(run_entry.value, run_path)
    if run is None:
        return workflow.RunDefaults()
    reader.check_keys(run, run_path, schema.DEFAULTS_RUN_KEYS)
    shell = directory = None
    if "shell" in run.entries:
        shell_node = run.entries["shell"].value
        shell = read_shell(reader, shell_node, join(run_path, "shell"), key_pattern)
        locations["defaults.run.shell"] = shell_node.location
    if "working-directory" in run.entries:
        directory_node = run.entries["working-directory"].value
        directory_path = join(run_path, "working-directory")
        directory = reader.string(directory_node, directory_path, non_empty=True)
        locations["defaults.run.working-directory"] = directory_node.location
        _check_or_refuse(reader, directory, key_pattern, directory_node, directory_path)
    return workflow.RunDefaults(shell=shell, working_directory=directory)


def _check_or_refuse(
    reader: node_reader.NodeReader,
    value: str | None,
    key_pattern: str | None,
    node: yamlsource.Node,
    path: str,
) -> None:
    if value is None or not node_reader.is_expression(value):
        return
    if key_pattern is None:
        reader.error(
            node.location,
            path,
            "expressions are not allowed here",
            "write the value itself; GitHub evaluates no `${{ }}` in this key",
        )
        return
    workflow_expressions.check(reader, value, key_pattern, node.location, path)


def read_shell(
    reader: node_reader.NodeReader, node: yamlsource.Node, path: str, key_pattern: str | None
) -> str | None:
    """A shell: a known name (``bash``, ``sh``, ``python`` ...) or a command with ``{0}``."""
    shell = reader.string(node, path, strict=True, non_empty=True)
    if shell is None:
        return None
    if node_reader.is_expression(shell):
        _check_or_refuse(reader, shell, key_pattern, node, path)
        return shell
    if "{0}" not in shell and shell not in schema.SHELLS:
        reader.error(
            node.location,
            path,
            f"unknown shell `{shell}`",
            suggest.did_you_mean(shell, schema.SHELLS, noun="shell")
            + " (a custom shell is a command with `{0}` where the script path goes)",
        )
        return None
    return shell


def read_concurrency(
    reader: node_reader.NodeReader,
    node: yamlsource.Node,
    owner: str,
    key_pattern: str,
    locations: Locations,
) -> workflow.Concurrency | None:
    """``concurrency``: a group name, or ``{group, cancel-in-progress}``."""
    path = join(owner, "concurrency")
    if isinstance(node, yamlsource.ScalarNode):
        group = reader.string(node, path, non_empty=True)
        if group is None:
            return None
        workflow_expressions.check(reader, group, key_pattern, node.location, path)
        return workflow.Concurrency(group=group)
    mapping = reader.mapping(node, path, "a group name or a mapping with `group`")
    if mapping is None:
        return None
    reader.check_keys(mapping, path, schema.CONCURRENCY_KEYS, schema.UNSUPPORTED_CONCURRENCY_KEYS)
    cancel: bool | str = False
    if "cancel-in-progress" in mapping.entries:
        cancel_node = mapping.entries["cancel-in-progress"].value
        cancel_path = join(path, "cancel-in-progress")
        read = reader.boolean(cancel_node, cancel_path, expression=True)
        cancel = read if read is not None else False
        locations["concurrency.cancel-in-progress"] = cancel_node.location
        workflow_expressions.check(reader, cancel, key_pattern, cancel_node.location, cancel_path)
    if not reader.require(mapping, path, "group", "add `group: ${{ github.workflow }}`"):
        return None
    group_node = mapping.entries["group"].value
    group = reader.string(group_node, join(path, "group"), non_empty=True)
    if group is None:
        return None
    locations["concurrency.group"] = group_node.location
    workflow_expressions.check(reader, group, key_pattern, group_node.location, join(path, "group"))
    return workflow.Concurrency(group=group, cancel_in_progress=cancel)


def read_permissions(
    reader: node_reader.NodeReader, node: yamlsource.Node, owner: str, locations: Locations
) -> workflow.Permissions | None:
    """``read-all``, ``write-all``, or a map of scopes to ``read``/``write``/``none``."""
    path = join(owner, "permissions")
    if isinstance(node, yamlsource.ScalarNode) and isinstance(node.value, str):
        shorthand = reader.choice(
            node, path, schema.PERMISSION_SHORTHANDS, noun="permission shorthand"
        )
        if shorthand == "read-all":
            return "read-all"
        if shorthand == "write-all":
            return "write-all"
        return None
    mapping = reader.mapping(node, path, "`read-all`, `write-all` or a mapping of scopes")
    if mapping is None:
        return None
    reader.check_keys(mapping, path, schema.PERMISSION_SCOPES, noun="permission scope")
    scopes: dict[str, str] = {}
    for scope, entry in mapping.entries.items():
        levels = schema.PERMISSION_SCOPES.get(scope)
        if levels is None:
            continue
        scope_path = join(path, scope)
        level = reader.string(entry.value, scope_path, strict=True)
        if level is None:
            continue
        if level not in levels:
            reader.error(
                entry.value.location,
                scope_path,
                f"`{level}` is not a permission level for `{scope}`",
                f"`{scope}` takes " + " or ".join(f"`{name}`" for name in levels),
            )
            continue
        scopes[scope] = level
        locations[join("permissions", scope)] = entry.value.location
    return scopes


def read_condition(
    reader: node_reader.NodeReader,
    node: yamlsource.Node,
    path: str,
    key_pattern: str,
) -> str | None:
    """An ``if:``: an expression (with or without ``${{ }}``); ``true``/``false`` as text."""
    if not isinstance(node, yamlsource.ScalarNode) or node.value is None:
        reader.wrong_type(node, path, "an expression")
        return None
    value = node.value
    condition = ("true" if value else "false") if isinstance(value, bool) else node.text
    if isinstance(value, str):
        condition = value
    if not condition.strip():
        reader.error(node.location, path, "the condition is empty", "write an expression")
        return None
    workflow_expressions.check_condition(reader, condition, key_pattern, node.location, path)
    return condition
