"""The repository a run starts from, read from real git repositories."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from shipyard.core import errors
from shipyard.pipeline.run import repository


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "sub").mkdir(parents=True)
    git(root, "init", "-q", "-b", "trunk")
    (root / "sub" / "file.txt").write_text("one\n")
    git(root, "add", ".")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "one")
    return root


def test_branch_commit_tree_and_name(repo: Path) -> None:
    git(repo, "remote", "add", "origin", "git@example.com:octo/widgets.git")
    info = repository.discover(repo / "sub")
    assert info.root == repo
    assert info.sha == git(repo, "rev-parse", "HEAD")
    assert info.ref == "refs/heads/trunk"
    assert info.name == "octo/widgets"
    assert repository.tree_of(repo, info.sha) == git(repo, "rev-parse", "HEAD^{tree}")


def test_tags_detached_heads_and_commits(repo: Path) -> None:
    sha = git(repo, "rev-parse", "HEAD")
    git(repo, "tag", "v1.0")
    assert repository.discover(repo, "v1.0").ref == "refs/tags/v1.0"
    assert repository.discover(repo, "v1.0").sha == sha
    git(repo, "checkout", "-q", "--detach")
    assert repository.discover(repo).ref == "refs/tags/v1.0"  # HEAD is exactly at the tag
    git(repo, "tag", "-d", "v1.0")
    assert repository.discover(repo).ref == "refs/heads/main"  # GitHub's default, nothing better
    assert repository.discover(repo, sha).sha == sha
    assert repository.discover(repo).name == "local/project"


def test_what_is_missing_is_named(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(errors.UsageError, match="--ref nope: no such branch, tag or commit"):
        repository.discover(repo, "nope")
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    with pytest.raises(errors.UsageError, match="has no commits yet"):
        repository.discover(empty)
    outside = tmp_path / "plain"
    outside.mkdir()
    info = repository.discover(outside)
    assert (info.sha, info.name) == ("", "local/plain")
    assert repository.tree_of(outside, "") is None


PROBE = """
import os, resource, sys
from pathlib import Path
from shipyard.pipeline.run import repository

root = Path(sys.argv[1])


def is_open(fd):
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def limit_leaving(spare):
    # The descriptor limit under which exactly `spare` more can be opened.
    limit, free = 0, 0
    while free < spare or is_open(limit):
        free += not is_open(limit)
        limit += 1
    return limit


hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
results = []
for spare in range(0, 14):
    # Descriptors run out after `spare` more: the first git may start and the second not.
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit_leaving(spare), hard))
    answers = repository._git_both(root, ["rev-parse", "HEAD"], ["rev-parse", "HEAD^{tree}"])
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, hard))
    try:
        os.waitpid(-1, os.WNOHANG)
        left = "a child is left"
    except ChildProcessError:
        left = "none left"
    results.append(f"{spare} {answers[0] is not None} {answers[1] is not None} {left}")
print("\\n".join(results))
"""


def test_no_git_is_left_running_when_the_second_cannot_start(repo: Path) -> None:
    import sys

    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(repo)], capture_output=True, text=True, check=True
    )
    rows = [line.split(" ", 3) for line in done.stdout.splitlines()]
    assert all(row[3] == "none left" for row in rows), done.stdout
    outcomes = {(row[1], row[2]) for row in rows}
    # Too few descriptors for any git, then for one but not two, then enough for both.
    assert ("False", "False") in outcomes and ("True", "True") in outcomes, done.stdout
