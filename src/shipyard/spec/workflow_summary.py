"""What ``shipyard run --list`` shows of a workflow, read without validating it.

Listing must start in a blink, so it reads the YAML tree directly (no loader, no expression
language) and never fails: a file that cannot be summarised says so and points at
``shipyard validate``.
"""

from __future__ import annotations

from shipyard.core import errors
from shipyard.core.frozen import frozen
from shipyard.spec import yamlsource


@frozen
class JobSummary:
    id: str
    name: str | None
    needs: tuple[str, ...]
    matrix: bool
    uses: str | None


@frozen
class WorkflowSummary:
    path: str
    name: str | None
    events: tuple[str, ...]
    jobs: tuple[JobSummary, ...]
    problem: str | None = None


def summarize(text: str, *, path: str) -> WorkflowSummary:
    try:
        root = yamlsource.parse(text, path=path).root
    except errors.SpecError as error:
        return WorkflowSummary(path, None, (), (), problem=error.headline())
    if not isinstance(root, yamlsource.MappingNode):
        return WorkflowSummary(path, None, (), (), problem="not a mapping")
    values = root.entries
    name = _text(values.get("name"))
    return WorkflowSummary(path, name, _events(values.get("on")), _jobs(values.get("jobs")))


def _text(entry: yamlsource.Entry | None) -> str | None:
    if entry is None or not isinstance(entry.value, yamlsource.ScalarNode):
        return None
    value = entry.value.value
    return None if value is None else str(value)


def _events(entry: yamlsource.Entry | None) -> tuple[str, ...]:
    if entry is None:
        return ()
    node = entry.value
    if isinstance(node, yamlsource.ScalarNode):
        return (str(node.value),)
    if isinstance(node, yamlsource.SequenceNode):
        return tuple(
            str(item.value) for item in node.items if isinstance(item, yamlsource.ScalarNode)
        )
    return tuple(node.entries)


def _jobs(entry: yamlsource.Entry | None) -> tuple[JobSummary, ...]:
    if entry is None or not isinstance(entry.value, yamlsource.MappingNode):
        return ()
    jobs = []
    for job_id, job_entry in entry.value.entries.items():
        node = job_entry.value
        fields = node.entries if isinstance(node, yamlsource.MappingNode) else {}
        needs_node = fields["needs"].value if "needs" in fields else None
        if isinstance(needs_node, yamlsource.ScalarNode):
            needs: tuple[str, ...] = (str(needs_node.value),)
        elif isinstance(needs_node, yamlsource.SequenceNode):
            needs = tuple(
                str(item.value)
                for item in needs_node.items
                if isinstance(item, yamlsource.ScalarNode)
            )
        else:
            needs = ()
        strategy = fields["strategy"].value if "strategy" in fields else None
        matrix = isinstance(strategy, yamlsource.MappingNode) and "matrix" in strategy.entries
        jobs.append(
            JobSummary(job_id, _text(fields.get("name")), needs, matrix, _text(fields.get("uses")))
        )
    return tuple(jobs)
