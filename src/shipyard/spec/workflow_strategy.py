"""Reading a job's ``strategy`` (matrix, fail-fast, max-parallel) into ``workflow.Strategy``.

The matrix is kept as written: dimensions with their lists of values, ``include`` and ``exclude``
lists, or ``${{ }}`` expressions in place of any of them; expanding it is the planner's job. What
can be known before a run is checked here: a dimension has values, ``include`` and ``exclude``
hold mappings, and every ``exclude`` key names a dimension (GitHub applies ``exclude`` before
``include``, so only the dimensions count). Pure: no I/O.
"""

from __future__ import annotations

from shipyard.core import errors, suggest
from shipyard.spec import node_reader, workflow, workflow_expressions, yamlsource
from shipyard.spec import workflow_schema as schema
from shipyard.spec.node_reader import join

_PATTERN = "jobs.<job_id>.strategy"
_FILTERS = ("include", "exclude")


def read_strategy(
    reader: node_reader.NodeReader,
    node: yamlsource.Node,
    job_path: str,
    locations: dict[str, errors.SourceLocation],
) -> workflow.Strategy | None:
    """The job's strategy, or None when it is unusable (the problems are on ``reader``)."""
    path = join(job_path, "strategy")
    mapping = reader.mapping(node, path)
    if mapping is None:
        return None
    reader.check_keys(mapping, path, schema.STRATEGY_KEYS)
    entries = mapping.entries
    for key, entry in entries.items():
        locations[join("strategy", key)] = entry.value.location
    matrix = workflow.Matrix()
    if "matrix" in entries:
        read = _read_matrix(reader, entries["matrix"].value, join(path, "matrix"), locations)
        matrix = read if read is not None else matrix
    fail_fast: bool | str = True
    if "fail-fast" in entries:
        fail_fast_node = entries["fail-fast"].value
        fail_fast_path = join(path, "fail-fast")
        value = reader.boolean(fail_fast_node, fail_fast_path, expression=True)
        workflow_expressions.check(reader, value, _PATTERN, fail_fast_node.location, fail_fast_path)
        fail_fast = value if value is not None else True
    max_parallel: int | str | None = None
    if "max-parallel" in entries:
        parallel_node = entries["max-parallel"].value
        parallel_path = join(path, "max-parallel")
        number = reader.number(
            parallel_node, parallel_path, expression=True, kind="integer", above=0
        )
        workflow_expressions.check(reader, number, _PATTERN, parallel_node.location, parallel_path)
        max_parallel = number if isinstance(number, int | str) else None
    return workflow.Strategy(matrix=matrix, fail_fast=fail_fast, max_parallel=max_parallel)


def _read_matrix(
    reader: node_reader.NodeReader,
    node: yamlsource.Node,
    path: str,
    locations: dict[str, errors.SourceLocation],
) -> workflow.Matrix | None:
    if isinstance(node, yamlsource.ScalarNode) and node_reader.is_expression(node.value):
        assert isinstance(node.value, str)
        workflow_expressions.check(reader, node.value, _PATTERN, node.location, path)
        return workflow.Matrix(expression=node.value)
    mapping = reader.mapping(node, path, "a mapping of dimensions or a `${{ }}` expression")
    if mapping is None:
        return None
    errors_before = len(reader.errors)
    dimensions: dict[str, list[workflow.Value] | str] = {}
    filters: dict[str, list[dict[str, workflow.Value]] | str] = {"include": [], "exclude": []}
    for key, entry in mapping.entries.items():
        key_path = join(path, key)
        locations[join("strategy.matrix", key)] = entry.value.location
        if key in _FILTERS:
            read_filter = _read_filter(reader, entry.value, key_path)
            if read_filter is not None:
                filters[key] = read_filter
            continue
        values = _read_dimension(reader, entry.value, key_path)
        if values is not None:
            dimensions[key] = values
    if not mapping.entries.keys() - {"exclude"}:
        reader.error(
            node.location,
            path,
            "the matrix defines no combinations",
            "add a dimension (`python: ['3.11', '3.12']`) or `include` entries",
        )
    _check_exclude_keys(reader, mapping, path)
    if len(reader.errors) > errors_before:
        return None
    return workflow.Matrix(
        dimensions=dimensions, include=filters["include"], exclude=filters["exclude"]
    )


def _read_dimension(
    reader: node_reader.NodeReader, node: yamlsource.Node, path: str
) -> list[workflow.Value] | str | None:
    if isinstance(node, yamlsource.ScalarNode) and node_reader.is_expression(node.value):
        assert isinstance(node.value, str)
        workflow_expressions.check(reader, node.value, _PATTERN, node.location, path)
        return node.value
    items = reader.sequence(node, path, "a list of values or a `${{ }}` expression")
    if items is None:
        return None
    if not items.items:
        reader.error(
            node.location,
            path,
            f"the matrix dimension `{path.rsplit('.', 1)[-1]}` has no values",
            "list at least one value, or remove the dimension",
        )
        return None
    for item in items.items:
        if isinstance(item, yamlsource.ScalarNode):
            workflow_expressions.check(reader, item.value, _PATTERN, item.location, path)
    return [yamlsource.to_value(item) for item in items.items]


def _read_filter(
    reader: node_reader.NodeReader, node: yamlsource.Node, path: str
) -> list[dict[str, workflow.Value]] | str | None:
    if isinstance(node, yamlsource.ScalarNode) and node_reader.is_expression(node.value):
        assert isinstance(node.value, str)
        workflow_expressions.check(reader, node.value, _PATTERN, node.location, path)
        return node.value
    items = reader.sequence(node, path, "a list of mappings or a `${{ }}` expression")
    if items is None:
        return None
    entries = []
    for index, item in enumerate(items.items):
        mapping = reader.mapping(item, f"{path}[{index}]")
        if mapping is None:
            continue
        for entry in mapping.entries.values():
            value = entry.value
            if isinstance(value, yamlsource.ScalarNode):
                workflow_expressions.check(reader, value.value, _PATTERN, value.location, path)
        entries.append({key: yamlsource.to_value(e.value) for key, e in mapping.entries.items()})
    return entries


def _check_exclude_keys(
    reader: node_reader.NodeReader, mapping: yamlsource.MappingNode, path: str
) -> None:
    """Each key of each ``exclude`` entry must be a dimension of the matrix."""
    exclude = mapping.entries.get("exclude")
    if exclude is None or not isinstance(exclude.value, yamlsource.SequenceNode):
        return
    dimensions = [key for key in mapping.entries if key not in _FILTERS]
    if not dimensions:
        return  # reported as a matrix without combinations
    for index, item in enumerate(exclude.value.items):
        if not isinstance(item, yamlsource.MappingNode):
            continue
        for key, entry in item.entries.items():
            if key not in dimensions:
                reader.error(
                    entry.key_location,
                    f"{path}.exclude[{index}].{key}",
                    f"`{key}` is not a dimension of the matrix",
                    suggest.did_you_mean(key, dimensions, noun="dimension")
                    + " (`exclude` matches the matrix's own dimensions, before `include`)",
                )
