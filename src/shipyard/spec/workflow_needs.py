"""Checking the graph that ``needs`` draws between jobs. Pure: no I/O.

Every job a ``needs`` names must exist (a misspelt one gets "did you mean"), and the jobs must not
wait for each other in a circle: a cycle is reported once, named in full (``a -> b -> a``), at the
``needs`` entry of its first job in the file.
"""

from __future__ import annotations

from collections.abc import Mapping

from shipyard.core import suggest
from shipyard.spec import node_reader, workflow


def check_needs(reader: node_reader.NodeReader, jobs: Mapping[str, workflow.Job]) -> None:
    """Report unknown jobs in ``needs`` and every cycle among the jobs."""
    for job in jobs.values():
        for index, name in enumerate(job.needs):
            if name not in jobs:
                others = [other for other in jobs if other != job.id]
                reader.error(
                    job.source.where(f"needs[{index}]"),
                    job.source.path_of("needs"),
                    f"unknown job `{name}`",
                    suggest.did_you_mean(name, others, noun="job")
                    if others
                    else "this workflow has no other job",
                )
    for cycle in _cycles(jobs):
        first = jobs[cycle[0]]
        index = first.needs.index(cycle[1])
        hint = (
            "a job cannot need itself"
            if len(cycle) == 2
            else "each job needs the next one; remove one of these `needs`"
        )
        reader.error(
            first.source.where(f"needs[{index}]"),
            first.source.path_of("needs"),
            "`needs` forms a cycle: " + " -> ".join(cycle),
            hint,
        )


def _cycles(jobs: Mapping[str, workflow.Job]) -> list[list[str]]:
    """Cycles (at least one through every circle of jobs), each starting and ending at its
    earliest job in the file."""
    order = {job_id: position for position, job_id in enumerate(jobs)}
    edges = {
        job_id: [name for name in dict.fromkeys(job.needs) if name in jobs]
        for job_id, job in jobs.items()
    }
    finished: set[str] = set()
    found: dict[tuple[str, ...], list[str]] = {}
    for start in jobs:
        if start in finished:
            continue
        # An iterative depth-first search: `path` is the chain being explored.
        path = [start]
        on_path = {start}
        pending = [iter(edges[start])]
        while pending:
            following = next(pending[-1], None)
            if following is None:
                done = path.pop()
                on_path.discard(done)
                finished.add(done)
                pending.pop()
                continue
            if following in on_path:
                loop = path[path.index(following) :]
                first = min(loop, key=order.__getitem__)
                at = loop.index(first)
                rotated = loop[at:] + loop[:at]
                found.setdefault(tuple(rotated), [*rotated, first])
            elif following not in finished:
                path.append(following)
                on_path.add(following)
                pending.append(iter(edges[following]))
    return sorted(found.values(), key=lambda cycle: [order[job] for job in cycle])
