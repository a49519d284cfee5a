from __future__ import annotations

import pytest

from shipyard.core import errors
from shipyard.pipeline.plan import graph
from shipyard.spec import workflow


def _jobs(**needs: tuple[str, ...]) -> dict[str, workflow.Job]:
    return {
        job_id: workflow.Job(
            id=job_id, source=workflow.SourceMap("w.yml", f"jobs.{job_id}"), needs=required
        )
        for job_id, required in needs.items()
    }


JOBS = _jobs(lint=(), build=(), test=("build",), deploy=("test", "lint"), docs=())


def test_select_adds_every_job_needed_transitively() -> None:
    assert graph.select(JOBS, ["deploy"]) == {"deploy", "test", "build", "lint"}
    assert graph.select(JOBS, []) == set(JOBS)


def test_select_unknown_job_suggests_the_closest() -> None:
    with pytest.raises(errors.UsageError) as caught:
        graph.select(JOBS, ["tset"])
    assert caught.value.render() == (
        "--job tset: the workflow has no job `tset`\n  hint: did you mean `test`?"
    )


def test_order_keeps_file_order_among_independent_jobs() -> None:
    assert graph.order(JOBS, set(JOBS)) == ["lint", "build", "docs", "test", "deploy"]


def test_levels_group_jobs_by_depth() -> None:
    assert graph.levels(JOBS, set(JOBS)) == [["lint", "build", "docs"], ["test"], ["deploy"]]


def test_ancestors_and_cycles() -> None:
    assert graph.ancestors(JOBS, "deploy") == {"test", "build", "lint"}
    cyclic = _jobs(a=("c",), b=("a",), c=("b",), d=())
    assert graph.find_cycle(cyclic) == ["a", "c", "b", "a"]
    assert graph.find_cycle(JOBS) is None
    with pytest.raises(errors.SpecError) as caught:
        graph.order(cyclic, set(cyclic))
    assert caught.value.message == "jobs depend on each other in a cycle: a -> c -> b -> a"


def test_a_500_job_fan_out_fan_in_orders_quickly() -> None:
    jobs = {"root": ()} | {f"j{i}": ("root",) for i in range(498)}
    jobs["sink"] = tuple(f"j{i}" for i in range(498))
    big = _jobs(**jobs)
    ordered = graph.order(big, set(big))
    assert ordered[0] == "root" and ordered[-1] == "sink" and len(ordered) == 500
