"""Whatever the input, the loader returns a workflow or raises SpecErrors: never anything else.

Two generators: arbitrary YAML-looking text (syntax errors, tabs, odd characters, anchors), and
YAML documents assembled from valid workflow fragments with random values swapped in at random
places (type errors deep inside otherwise good workflows).
"""

from __future__ import annotations

import io
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from shipyard.core import errors
from shipyard.spec import workflow, workflow_loader

PATH = ".github/workflows/fuzz.yml"

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def load_or_fail_cleanly(text: str) -> None:
    try:
        loaded = workflow_loader.load_workflow(text, path=PATH)
    except errors.SpecErrors as problems:
        for problem in problems.errors:
            assert isinstance(problem, errors.SpecError)
            assert problem.location is not None
            assert problem.location.file == PATH
            assert problem.location.line >= 1
            assert problem.location.column >= 1
            assert problem.render()
        return
    assert isinstance(loaded, workflow.Workflow)


YAML_PIECES = st.sampled_from(
    [
        "on:", "jobs:", "  build:", "    runs-on: x", "    steps:", "      - run: echo",
        "- ", "? ", ": ", "{", "}", "[", "]", ",", "&a ", "*a", "<<: *a", "!!str ", "!!int ",
        "!x ", "'", '"', "|", ">-", "\t", "#", "---", "...", "%YAML 1.2", "${{", "}}", "\\",
        "needs: [", "uses: ./", "if: ", "matrix:", "include:", "cron: '* * * * *'", "~", "yes",
        "3.10", "0x1F", ".inf", "\n", "\n  ", "\n    ", "\n      ", "é", "😀", "\x85", "\ufeff",
    ]
)  # fmt: skip

yaml_like_text = st.lists(YAML_PIECES, max_size=40).map("".join) | st.text(max_size=200)


@FUZZ
@given(yaml_like_text)
def test_yaml_like_text_never_crashes(text: str) -> None:
    load_or_fail_cleanly(text)


def base_workflow() -> dict[str, Any]:
    return {
        "name": "CI",
        "on": {
            "push": {"branches": ["main"]},
            "workflow_dispatch": {"inputs": {"level": {"type": "choice", "options": ["a"]}}},
            "workflow_call": {
                "inputs": {"v": {"type": "string", "default": "x"}},
                "outputs": {"o": {"value": "${{ jobs.build.outputs.v }}"}},
                "secrets": {"token": {"required": True}},
            },
            "schedule": [{"cron": "0 3 * * 1"}],
        },
        "env": {"A": 1},
        "defaults": {"run": {"shell": "bash"}},
        "concurrency": {"group": "g", "cancel-in-progress": True},
        "permissions": {"contents": "read"},
        "jobs": {
            "build": {
                "runs-on": "ubuntu-latest",
                "outputs": {"v": "${{ steps.s.outputs.v }}"},
                "strategy": {
                    "fail-fast": False,
                    "max-parallel": 2,
                    "matrix": {"py": ["3.11"], "include": [{"py": "3.12"}], "exclude": []},
                },
                "environment": {"name": "staging", "url": "https://x"},
                "steps": [
                    {"id": "s", "run": "echo", "shell": "sh", "env": {"B": "c"}},
                    {"uses": "actions/checkout@v4", "with": {"depth": 0}},
                ],
            },
            "call": {"needs": "build", "uses": "./.github/workflows/x.yml", "secrets": "inherit"},
        },
    }


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["${{ github.ref }}", "${{", "yes", "", "inherit", "read-all", "__x", "*"]),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def paths_of(tree: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(tree, dict):
        for key, value in tree.items():
            found.extend(paths_of(value, (*prefix, key)))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            found.extend(paths_of(value, (*prefix, index)))
    return found


@st.composite
def mutated_workflows(draw: st.DrawFn) -> str:
    tree = base_workflow()
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        places = paths_of(tree)
        place = draw(st.sampled_from(places[1:]))
        parent = tree
        for step in place[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "delete":
            del parent[place[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=10))] = draw(values)
        else:
            parent[place[-1]] = draw(values)
    style = draw(st.sampled_from(["json", "flow", "block"]))
    if style == "json":  # JSON is YAML too
        return json.dumps(tree, allow_nan=True)
    emitter = YAML(typ="safe", pure=True)
    emitter.default_flow_style = style == "flow"
    out = io.StringIO()
    emitter.dump(tree, out)
    return out.getvalue()


@FUZZ
@given(mutated_workflows())
def test_mutated_workflows_never_crash(text: str) -> None:
    load_or_fail_cleanly(text)


def test_the_unmutated_base_workflow_is_valid() -> None:
    loaded = workflow_loader.load_workflow(json.dumps(base_workflow()), path=PATH)
    assert list(loaded.jobs) == ["build", "call"]
