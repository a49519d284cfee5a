"""Helpers for the workflow loader's tests: load a snippet, render its problems."""

from __future__ import annotations

import textwrap

import pytest

from shipyard.core import errors
from shipyard.spec import workflow, workflow_loader

PATH = ".github/workflows/ci.yml"

JOB = """\
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: make
"""
"""A valid workflow to start a case from."""


def load(text: str) -> workflow.Workflow:
    """The workflow of ``text`` (dedented), which must be valid."""
    return workflow_loader.load_workflow(textwrap.dedent(text), path=PATH)


def problems(text: str) -> list[str]:
    """Every problem of ``text`` (dedented), each rendered as the CLI prints it."""
    with pytest.raises(errors.SpecErrors) as caught:
        workflow_loader.load_workflow(textwrap.dedent(text), path=PATH)
    return [problem.render() for problem in caught.value.errors]
