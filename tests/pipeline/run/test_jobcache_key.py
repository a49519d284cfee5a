"""The job cache key: which jobs are never cached, and what goes into the key of the others."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from shipyard.pipeline.run import jobcache_key
from shipyard.spec import workflow_loader

WORKFLOW = """
on: push
env:
  GREETING: hello
jobs:
  plain:
    runs-on: ubuntu-latest
    steps:
      - run: echo plain
  run-id:
    runs-on: ubuntu-latest
    steps:
      - run: echo ${{ github.run_id }}
  nested-secret:
    runs-on: ubuntu-latest
    steps:
      - uses: ./local-action
        with:
          token: ${{ secrets [ 'DEPLOY_KEY' ] }}
  github-token:
    runs-on: ubuntu-latest
    steps:
      - run: gh release list
        env:
          GH_TOKEN: ${{ secrets.GITHUB_TOKEN }}
  commit:
    runs-on: ubuntu-latest
    steps:
      - run: echo ${{ github.sha }}
  opted-in:
    runs-on: ubuntu-latest
    x-shipyard:
      cache: {secrets: true}
    steps:
      - run: echo ${{ secrets.DEPLOY_KEY }}
"""


def _refusal(text: str, job: str) -> str | None:
    spec = workflow_loader.load_workflow(text, path=".github/workflows/ci.yml")
    refused = jobcache_key.refusal(spec, spec.jobs[job])
    return None if refused is None else refused.reason


@pytest.mark.parametrize(
    ("job", "reason"),
    [
        ("plain", None),
        ("run-id", "it reads github.run_id, run_number or run_attempt"),
        ("nested-secret", "it uses secrets (opt in with x-shipyard: {cache: {secrets: true}})"),
        ("github-token", None),
        ("commit", None),
        ("opted-in", None),
    ],
)
def test_jobs_that_must_not_be_cached_say_why(job: str, reason: str | None) -> None:
    assert _refusal(WORKFLOW, job) == reason


def test_the_workflows_env_counts_as_part_of_every_job() -> None:
    text = WORKFLOW.replace("GREETING: hello", "GREETING: ${{ github.run_number }}")
    assert _refusal(text, "plain") == "it reads github.run_id, run_number or run_attempt"


def test_words_in_separate_strings_are_not_read_as_one_reference() -> None:
    # "github" ending one string and ".run_id" starting the next is not a reference.
    text = WORKFLOW.replace("echo plain", "echo github").replace(
        "GREETING: hello", "GREETING: .run_id"
    )
    assert _refusal(text, "plain") is None


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str]:
    (tmp_path / "README").write_text("hello\n")
    for args in (["init", "-q"], ["add", "."], ["commit", "-qm", "one"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
            cwd=tmp_path,
            check=True,
        )
    sha = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.strip()
    return tmp_path, sha


def _key(spec_text: str, job: str, root: Path, sha: str, values: dict[str, str]) -> str:
    spec = workflow_loader.load_workflow(spec_text, path=".github/workflows/ci.yml")
    key = jobcache_key.compute(
        spec=spec,
        job=spec.jobs[job],
        matrix=None,
        strategy={},
        needs={},
        root=root,
        sha=sha,
        values=values,
        secrets={},
        tools="tools",
    )
    assert isinstance(key, jobcache_key.JobKey), key
    return key.digest


def test_the_commit_id_is_in_the_key_only_of_jobs_that_read_it(repo: tuple[Path, str]) -> None:
    root, sha = repo
    one = {"sha": sha, "event": "{}", "ref": "refs/heads/main"}
    other = {**one, "sha": "0" * 40, "event": '{"after": "0"}'}
    assert _key(WORKFLOW, "plain", root, sha, one) == _key(WORKFLOW, "plain", root, sha, other)
    assert _key(WORKFLOW, "commit", root, sha, one) != _key(WORKFLOW, "commit", root, sha, other)
    changed = WORKFLOW.replace("echo plain", "echo changed")
    assert _key(WORKFLOW, "plain", root, sha, one) != _key(changed, "plain", root, sha, one)
