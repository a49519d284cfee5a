from __future__ import annotations

import pytest

from shipyard.core import errors
from shipyard.spec import workflow, workflow_loader

BASE = """\
on: push
x-shipyard:
  cache: {secrets: true}
jobs:
  narrow:
    runs-on: ubuntu-latest
    x-shipyard:
      cache:
        inputs: [src/**, pyproject.toml]
    steps:
      - run: echo
  never:
    runs-on: ubuntu-latest
    x-shipyard: {cache: false}
    steps:
      - run: echo
  plain:
    runs-on: ubuntu-latest
    steps:
      - run: echo
"""


def test_extensions_at_workflow_and_job_level() -> None:
    loaded = workflow_loader.load_workflow(BASE, path="w.yml")
    assert loaded.x_shipyard == workflow.Extensions(cache=workflow.CacheSettings(secrets=True))
    assert loaded.jobs["narrow"].x_shipyard.cache == workflow.CacheSettings(
        inputs=("src/**", "pyproject.toml")
    )
    assert loaded.jobs["never"].x_shipyard.cache == workflow.CacheSettings(enabled=False)
    assert loaded.jobs["plain"].x_shipyard == workflow.Extensions()


@pytest.mark.parametrize(
    ("replace", "rendered"),
    [
        (
            ("cache: false", "cache: nope"),
            "w.yml:14:25: jobs.never.x-shipyard.cache: expected `true`, `false` or a mapping, "
            "found the string `nope`",
        ),
        (
            ("inputs: [src/**, pyproject.toml]", "input: [src/**]"),
            "w.yml:9:9: jobs.narrow.x-shipyard.cache.input: unknown key `input`\n"
            "  hint: did you mean `inputs`?",
        ),
        (
            ("  cache: {secrets: true}", "  caches: {secrets: true}"),
            "w.yml:3:3: x-shipyard.caches: unknown key `caches`\n  hint: did you mean `cache`?",
        ),
    ],
)
def test_bad_extensions_point_at_the_key(replace: tuple[str, str], rendered: str) -> None:
    with pytest.raises(errors.SpecErrors) as caught:
        workflow_loader.load_workflow(BASE.replace(*replace), path="w.yml")
    assert caught.value.render() == rendered
