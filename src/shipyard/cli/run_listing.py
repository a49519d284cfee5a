"""Text for ``shipyard run --list`` and ``--dry-run``: workflows, jobs and the planned graph."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.core import errors
from shipyard.spec import discovery, workflow_summary

if TYPE_CHECKING:
    from shipyard.spec import workflow


def list_text(start: Path) -> str:
    """``run --list`` for the repository holding ``start``: every workflow file, summarized."""
    root = _repository_root(start)
    summaries = [
        workflow_summary.summarize(
            path.read_text(encoding="utf-8", errors="replace"),
            path=path.relative_to(root).as_posix(),
        )
        for path in discovery.find_workflow_files(root)
    ]
    return listing(summaries)


def _repository_root(start: Path) -> Path:
    """The nearest directory holding ``.git`` (no git process: --list must start fast)."""
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    return start


def listing(workflows: Sequence[workflow_summary.WorkflowSummary]) -> str:
    lines = []
    for item in workflows:
        if item.problem is not None:
            lines.append(f"{item.path}  (invalid: {item.problem}; see `shipyard validate`)")
            continue
        events = ", ".join(item.events) or "-"
        lines.append(f"{item.path}  {item.name or item.path}  (on: {events})")
        for job in item.jobs:
            details = []
            if job.needs:
                details.append("needs " + ", ".join(job.needs))
            if job.matrix:
                details.append("matrix")
            if job.uses:
                details.append(f"calls {job.uses}")
            suffix = f"  [{'; '.join(details)}]" if details else ""
            name = f" ({job.name})" if job.name and job.name != job.id else ""
            lines.append(f"  {job.id}{name}{suffix}")
    return "\n".join(lines) + ("\n" if lines else "")


def plan_text(
    item: workflow.Workflow, wanted: Sequence[str], inputs: Mapping[str, str], event: str
) -> str:
    """The job graph by stage, every static matrix expanded."""
    from shipyard.pipeline.plan import graph, matrix
    from shipyard.pipeline.run import reusable

    selected = graph.select(item.jobs, wanted)
    lines = [f"{item.display_name} ({item.path}) on {event}"]
    contexts: dict[str, Any] = {"github": {"event_name": event}, "inputs": dict(inputs)}
    contexts.update({"vars": {}, "needs": {}, "matrix": {}, "strategy": {}, "secrets": {}})
    for number, stage in enumerate(graph.levels(item.jobs, selected), start=1):
        lines.append(f"stage {number}:")
        for job_id in stage:
            job = item.jobs[job_id]
            needs = f" (needs {', '.join(job.needs)})" if job.needs else ""
            lines.append(f"  {job_id}{needs}")
            if job.strategy is None:
                continue
            raw = job.strategy.matrix
            values = [raw.expression, *raw.dimensions.values(), raw.include, raw.exclude]
            if any(isinstance(v, str) and "needs." in v for v in values):
                lines.append("    matrix: computed at run time from the jobs it needs")
                continue
            try:
                combos = reusable.expand_matrix(job, contexts)
            except errors.ShipyardError as error:
                lines.append(f"    matrix: cannot expand before the run ({error.message})")
                continue
            for combo in combos:
                lines.append(f"    - {matrix.describe(combo)}  {json.dumps(combo)}")
    return "\n".join(lines)
