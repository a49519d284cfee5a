"""The job graph: which jobs a run includes, in which order, and what each depends on. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from shipyard.core import errors, suggest
from shipyard.spec import workflow


def select(jobs: Mapping[str, workflow.Job], wanted: Iterable[str]) -> set[str]:
    """The jobs to run: ``wanted`` and every job they need, transitively; all when empty."""
    wanted = list(wanted)
    if not wanted:
        return set(jobs)
    selected: set[str] = set()
    for job_id in wanted:
        if job_id not in jobs:
            raise errors.UsageError(
                f"--job {job_id}: the workflow has no job `{job_id}`",
                hint=suggest.did_you_mean(job_id, jobs, noun="job"),
            )
        selected.add(job_id)
        selected.update(ancestors(jobs, job_id))
    return selected


def ancestors(jobs: Mapping[str, workflow.Job], job_id: str) -> set[str]:
    """Every job ``job_id`` needs, directly or through others."""
    seen: set[str] = set()
    stack = list(jobs[job_id].needs) if job_id in jobs else []
    while stack:
        current = stack.pop()
        if current in seen or current not in jobs:
            continue
        seen.add(current)
        stack.extend(jobs[current].needs)
    return seen


def order(jobs: Mapping[str, workflow.Job], selected: set[str]) -> list[str]:
    """``selected`` in dependency order, keeping the file's order among independent jobs."""
    placed: list[str] = []
    done: set[str] = set()
    remaining = [job_id for job_id in jobs if job_id in selected]
    while remaining:
        ready = [j for j in remaining if all(n in done or n not in selected for n in jobs[j].needs)]
        if not ready:
            cycle = find_cycle(jobs) or remaining
            raise errors.SpecError(
                "jobs depend on each other in a cycle: " + " -> ".join(cycle),
                hint="remove one of these `needs`",
            )
        for job_id in ready:
            placed.append(job_id)
            done.add(job_id)
        remaining = [j for j in remaining if j not in done]
    return placed


def find_cycle(jobs: Mapping[str, workflow.Job]) -> list[str] | None:
    """One cycle of ``needs`` as ``[a, b, a]``, or None."""
    state: dict[str, int] = {}
    for start in jobs:
        if state.get(start):
            continue
        path: list[str] = []
        stack: list[tuple[str, int]] = [(start, 0)]
        while stack:
            node, index = stack.pop()
            if index == 0:
                state[node] = 1
                path.append(node)
            needs = [n for n in jobs[node].needs if n in jobs]
            if index < len(needs):
                stack.append((node, index + 1))
                child = needs[index]
                if state.get(child) == 1:
                    return [*path[path.index(child) :], child]
                if not state.get(child):
                    stack.append((child, 0))
            else:
                state[node] = 2
                path.pop()
    return None


def levels(jobs: Mapping[str, workflow.Job], selected: set[str]) -> list[list[str]]:
    """Jobs grouped by depth: each level needs only jobs of earlier levels (for --dry-run)."""
    depth: dict[str, int] = {}
    for job_id in order(jobs, selected):
        needs = [n for n in jobs[job_id].needs if n in selected]
        depth[job_id] = 1 + max((depth[n] for n in needs), default=-1)
    grouped: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for job_id, level in depth.items():
        grouped[level].append(job_id)
    return grouped
