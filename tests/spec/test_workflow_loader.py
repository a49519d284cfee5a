"""The workflow loader: valid workflows become the right models; files and errors behave."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.core import errors
from shipyard.spec import workflow, workflow_loader
from tests.spec import cases

DATA = Path(__file__).parent / "data"
FULL = "tests/spec/data/full.yml"


@pytest.fixture(scope="module")
def full() -> workflow.Workflow:
    return workflow_loader.load_workflow_file(DATA / "full.yml", display_path=FULL)


def at(line: int, column: int) -> errors.SourceLocation:
    return errors.SourceLocation(FULL, line, column)


def test_top_level_keys(full: workflow.Workflow) -> None:
    assert full.path == FULL
    assert full.name == "Full"
    assert full.display_name == "Full"
    assert full.run_name == "Full run for ${{ github.ref }}"
    assert full.env == {"NUMBER": 3.1, "FLAG": True, "TEXT": "yes", "EMPTY": ""}
    assert full.defaults == workflow.RunDefaults(shell="bash", working_directory="src")
    assert full.concurrency == workflow.Concurrency(
        group="${{ github.workflow }}-${{ github.ref }}", cancel_in_progress=True
    )
    assert full.permissions == {"contents": "read", "id-token": "write", "pull-requests": "none"}
    assert list(full.jobs) == ["build", "test", "grouped", "call", "inherit"]


def test_events_and_their_filters(full: workflow.Workflow) -> None:
    assert full.on.events == {
        "push": {"branches": ["main", "release/**"], "tags": ["v*"], "paths-ignore": ["docs/**"]},
        "pull_request": {"types": ["opened", "synchronize"], "branches-ignore": ["wip/*"]},
        "workflow_run": {"workflows": ["CI"], "types": ["completed"]},
        "repository_dispatch": {"types": ["deploy-now"]},
        "release": {},
        "create": {},
        "workflow_dispatch": {},
        "workflow_call": {},
        "schedule": {},
    }
    assert full.on.schedules == ("30 5 * * 1-5", "0 */6 1,15 JAN-jun sun")


def test_dispatch_inputs(full: workflow.Workflow) -> None:
    assert full.on.dispatch_inputs == {
        "level": workflow.InputSpec(
            name="level",
            type="choice",
            required=True,
            description="Log level",
            default="info",
            options=("debug", "info"),
        ),
        "dry-run": workflow.InputSpec(name="dry-run", type="boolean", default=False),
        "count": workflow.InputSpec(name="count", type="number", default=3),
        "target": workflow.InputSpec(name="target", type="environment"),
        "note": workflow.InputSpec(name="note", type="string"),
    }


def test_workflow_call_interface(full: workflow.Workflow) -> None:
    assert full.on.workflow_call == workflow.WorkflowCall(
        inputs={
            "python": workflow.InputSpec(name="python", type="string", default="3.12"),
            "retries": workflow.InputSpec(
                name="retries", type="number", default="${{ github.run_attempt }}"
            ),
        },
        outputs={
            "version": workflow.CallOutput(
                name="version",
                value="${{ jobs.build.outputs.version }}",
                description="The version built",
            )
        },
        secrets={
            "token": workflow.CallSecret(name="token", required=True),
            "optional": workflow.CallSecret(name="optional"),
        },
    )


def test_job_with_every_key(full: workflow.Workflow) -> None:
    build = full.jobs["build"]
    assert build.id == "build"
    assert build.name == "Build ${{ matrix.python }}"
    assert build.needs == ()
    assert build.if_ == "github.event_name == 'push'"
    assert build.runs_on == "ubuntu-latest"
    assert build.timeout_minutes == 30
    assert build.continue_on_error == "${{ matrix.experimental }}"
    assert build.environment == workflow.Environment(
        name="staging", url="https://staging.example.com"
    )
    assert build.concurrency == workflow.Concurrency(group="build-${{ github.ref }}")
    assert build.permissions == "read-all"
    assert build.defaults == workflow.RunDefaults(
        shell="python {0}", working_directory="${{ matrix.python }}"
    )
    assert build.env == {"JOB_LEVEL": 1}
    assert build.outputs == {"version": "${{ steps.version.outputs.value }}", "count": "2"}
    assert build.uses is None
    assert build.with_ == {}
    assert build.secrets is None


def test_strategy_and_matrix(full: workflow.Workflow) -> None:
    assert full.jobs["build"].strategy == workflow.Strategy(
        matrix=workflow.Matrix(
            dimensions={
                "python": ["3.11", "3.12"],
                "os": ["ubuntu-latest", {"name": "custom", "arch": "arm64"}],
                "experimental": [False],
            },
            include=[{"python": "3.13", "experimental": True}],
            exclude=[{"python": "3.11", "os": "ubuntu-latest"}],
        ),
        fail_fast=False,
        max_parallel=2,
    )
    assert full.jobs["test"].strategy == workflow.Strategy(
        matrix=workflow.Matrix(expression="${{ fromJSON(needs.build.outputs.version) }}")
    )


def test_steps(full: workflow.Workflow) -> None:
    checkout, version, local, remote = full.jobs["build"].steps
    assert checkout.uses == "actions/checkout@v4"
    assert checkout.with_ == {"fetch-depth": 0, "lfs": True}
    assert (checkout.index, checkout.run, checkout.id) == (0, None, None)
    assert version == workflow.Step(
        index=1,
        source=version.source,
        id="version",
        name="Version",
        if_="${{ success() }}",
        run='echo "value=1.0" >> "$GITHUB_OUTPUT"\n',
        env={"STEP_LEVEL": 2},
        shell="sh",
        working_directory="tools",
        continue_on_error=True,
        timeout_minutes=1.5,
    )
    assert local.uses == "./.github/actions/local"
    assert remote.uses == "owner/repo/path/to/action@0123abc"


def test_runner_forms_and_reusable_workflow_calls(full: workflow.Workflow) -> None:
    assert full.jobs["test"].runs_on == ["self-hosted", "linux"]
    assert full.jobs["test"].environment == workflow.Environment(name="production")
    assert full.jobs["grouped"].runs_on == {"group": "big", "labels": ["linux", "x64"]}
    assert full.jobs["grouped"].needs == ("build", "test")
    call = full.jobs["call"]
    assert (call.uses, call.if_, call.runs_on, call.steps) == (
        "./.github/workflows/reusable.yml",
        "always()",
        None,
        (),
    )
    assert call.with_ == {"python": "3.12", "debug": True}
    assert call.secrets == {"token": "${{ secrets.TOKEN }}"}
    assert full.jobs["inherit"].secrets == "inherit"
    assert full.jobs["inherit"].uses == "octo/shared/.github/workflows/deploy.yml@v1"


def test_source_maps_locate_objects_and_keys(full: workflow.Workflow) -> None:
    assert full.source.where() == at(2, 1)
    assert full.source.where("env.NUMBER") == at(57, 11)
    assert full.source.where("on.workflow_dispatch.inputs.level") == at(22, 7)
    assert full.source.where("on.schedule[1].cron") == at(55, 13)
    build = full.jobs["build"]
    assert build.source.key_path == "jobs.build"
    assert build.source.where() == at(73, 3)
    assert build.source.where("runs-on") == at(75, 14)
    assert build.source.where("strategy.matrix.python") == at(97, 17)
    assert build.source.where("outputs.version") == at(91, 16)
    grouped = full.jobs["grouped"]
    assert grouped.source.where("needs[1]") == at(133, 20)
    step = build.steps[0]
    assert step.source.key_path == "jobs.build.steps[0]"
    assert step.source.path_of("with.fetch-depth") == "jobs.build.steps[0].with.fetch-depth"
    assert step.source.where("with.fetch-depth") == at(109, 24)
    assert build.steps[1].source.where("if") == at(113, 13)
    # A key that was not written falls back to the object itself.
    assert build.steps[1].source.where("with") == at(111, 9)


@pytest.mark.parametrize(
    ("on", "events"),
    [
        ("push", {"push": {}}),
        ("[push, pull_request]", {"push": {}, "pull_request": {}}),
        ("{push: , workflow_call: }", {"push": {}, "workflow_call": {}}),
    ],
)
def test_on_as_a_name_a_list_or_a_mapping(on: str, events: dict[str, object]) -> None:
    loaded = cases.load(cases.JOB.replace("on: push", f"on: {on}"))
    assert loaded.on.events == events
    assert (loaded.on.workflow_call is not None) == ("workflow_call" in events)


def test_defaults_for_keys_not_written() -> None:
    loaded = cases.load(cases.JOB)
    job = loaded.jobs["build"]
    assert (loaded.name, loaded.display_name) == (None, cases.PATH)
    assert (job.timeout_minutes, job.continue_on_error, job.strategy) == (360, False, None)
    assert job.steps[0] == workflow.Step(index=0, source=job.steps[0].source, run="make")


def test_anchors_and_merge_keys_share_settings_between_jobs() -> None:
    loaded = cases.load(
        """
        on: push
        jobs:
          base: &base
            runs-on: ubuntu-latest
            timeout-minutes: 5
            steps: [{run: make}]
          again:
            <<: *base
            timeout-minutes: 9
        """
    )
    again = loaded.jobs["again"]
    assert (again.runs_on, again.timeout_minutes) == ("ubuntu-latest", 9)
    assert again.steps[0].run == "make"


def test_every_problem_is_reported_in_one_pass_sorted_by_position() -> None:
    found = cases.problems(
        """
        on: pusj
        jobs:
          build:
            runs-on: ubuntu-latest
            needs: tset
            steps:
              - run: make
                uses: actions/checkout@v4
          test:
            runs_on: ubuntu-latest
            steps: [{run: make}]
        """
    )
    assert [problem.split(": ", 2)[0:2] for problem in found] == [
        [f"{cases.PATH}:2:5", "on"],
        [f"{cases.PATH}:6:12", "jobs.build.needs"],
        [f"{cases.PATH}:9:9", "jobs.build.steps[0].uses"],
        [f"{cases.PATH}:11:5", "jobs.test.runs_on"],
    ]


def test_an_error_carries_location_key_path_message_and_hint() -> None:
    with pytest.raises(errors.SpecErrors) as caught:
        workflow_loader.load_workflow(
            cases.JOB.replace("      - run: make\n", "      - run: make\n    needs: biuld\n"),
            path=cases.PATH,
        )
    (problem,) = caught.value.errors
    assert problem.location == errors.SourceLocation(cases.PATH, 7, 12)
    assert problem.key_path == "jobs.build.needs"
    assert problem.message == "unknown job `biuld`"
    assert problem.hint == "this workflow has no other job"
    assert problem.exit_code == 2


def test_a_syntax_error_is_raised_as_spec_errors() -> None:
    with pytest.raises(errors.SpecErrors) as caught:
        workflow_loader.load_workflow("on: [push\n", path=cases.PATH)
    assert caught.value.render() == (
        f"{cases.PATH}:2:1: invalid YAML: expected `,` or `]` in this list\n"
        "  hint: separate the items of `[...]` with commas and close it with `]`"
    )


def test_file_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    file = tmp_path / "ci.yml"
    file.write_bytes(b"\xef\xbb\xbf" + cases.JOB.encode())
    assert list(workflow_loader.load_workflow_file(file).jobs) == ["build"]


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    file = tmp_path / "ci.yml"
    file.write_bytes(b"on: push\nname: caf\xe9\n")
    with pytest.raises(errors.SpecErrors) as caught:
        workflow_loader.load_workflow_file(file, display_path="ci.yml")
    assert caught.value.render() == (
        "ci.yml:2:10: the file is not UTF-8 text (byte 0xe9)\n  hint: save the file as UTF-8"
    )


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(errors.SpecErrors) as caught:
        workflow_loader.load_workflow_file(tmp_path / "nope.yml", display_path="nope.yml")
    assert caught.value.render() == (
        "nope.yml:1:1: cannot read the workflow file: No such file or directory\n"
        "  hint: check that the file exists and is readable"
    )
