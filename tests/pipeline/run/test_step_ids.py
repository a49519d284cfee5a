"""Generated step ids (``__run``, ``__run_2``, ``__actions_checkout``), as GitHub names them."""

from __future__ import annotations

from typing import Any

from shipyard.pipeline.run import steps
from shipyard.spec import workflow_loader

WORKFLOW = """
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo one
      - id: named
        run: echo named
      - run: echo two
      - uses: ./.github/actions/local-thing
      - run: echo three
      - uses: actions/checkout@v4
"""


def _ids(counters: dict[str, int] | None) -> list[str]:
    spec = workflow_loader.load_workflow(WORKFLOW, path=".github/workflows/ci.yml")
    taken: dict[str, Any] = {}
    found = []
    for step in spec.jobs["build"].steps:
        step_id = step.id or steps.default_id(step, taken, counters)
        taken[step_id] = {"outputs": {}}  # the job records each step as it finishes
        found.append(step_id)
    return found


def test_steps_without_an_id_are_numbered_per_kind() -> None:
    assert _ids({}) == [
        "__actions_checkout",
        "__run",
        "named",
        "__run_2",
        "__github_actions_local_thing",
        "__run_3",
        "__actions_checkout_2",
    ]


def test_remembering_where_each_search_ended_changes_no_id() -> None:
    assert _ids({}) == _ids(None)


def test_a_long_job_numbers_its_steps_in_one_pass() -> None:
    spec = workflow_loader.load_workflow(
        "on: push\njobs:\n  long:\n    runs-on: ubuntu-latest\n    steps:\n"
        + "      - run: 'true'\n" * 3000,
        path=".github/workflows/long.yml",
    )
    taken: dict[str, Any] = {}
    counters: dict[str, int] = {}
    for step in spec.jobs["long"].steps:
        taken[steps.default_id(step, taken, counters)] = {}
    assert list(taken)[-1] == "__run_3000"
    assert counters == {"__run": 3000}  # each search started where the last one ended
