"""actions/checkout against real git repositories."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from shipyard.pipeline.actions import checkout, interface
from tests.pipeline.actions.conftest import Harness, git

ACTION = checkout.Checkout()

THREE_COMMITS = (
    {"README.md": "one\n", "src/app.py": "print('v1')\n"},
    {"src/app.py": "print('v2')\n"},
    {"src/app.py": "print('v3')\n", "docs/guide.md": "guide\n"},
)


@pytest.fixture
def source(make_repo: Callable[..., Path], harness: Harness) -> Path:
    root = make_repo(*THREE_COMMITS)
    harness.repository = interface.RepositoryInfo(
        root=root, sha=git(root, "rev-parse", "HEAD"), ref="refs/heads/main", name="octo/shop"
    )
    return root


def log_of(repo: Path) -> list[str]:
    return git(repo, "log", "--format=%s").splitlines()


def test_default_checkout_is_the_event_commit_on_its_branch_with_depth_one(
    source: Path, harness: Harness
) -> None:
    io = harness.run(ACTION)
    workspace = harness.workspace
    sha = harness.repository.sha
    assert io.outputs == {"ref": "refs/heads/main", "commit": sha}
    assert (workspace / "src" / "app.py").read_text() == "print('v3')\n"
    assert (workspace / "docs" / "guide.md").read_text() == "guide\n"
    assert git(workspace, "rev-parse", "HEAD") == sha
    assert git(workspace, "rev-parse", "--abbrev-ref", "HEAD") == "main"  # as GitHub: -B main
    assert git(workspace, "rev-parse", "--abbrev-ref", "main@{upstream}") == "origin/main"
    assert log_of(workspace) == ["commit 3"]
    assert git(workspace, "rev-parse", "--is-shallow-repository") == "true"
    assert git(workspace, "config", "--get", "remote.origin.url") == source.as_uri()
    assert git(workspace, "config", "--get", "gc.auto") == "0"
    assert git(workspace, "status", "--porcelain") == ""
    assert git(workspace, "tag") == ""
    assert io.warnings == []
    fetches = [argv for argv in io.ran("git") if argv[1] == "fetch"]
    assert fetches == [
        [
            "git",
            "fetch",
            "--no-tags",
            "--prune",
            "--no-recurse-submodules",
            "--depth=1",
            "origin",
            f"+{sha}:refs/remotes/origin/main",
        ]
    ]
    assert io.lines[-1] == f"Checked out refs/heads/main ({sha}) into {workspace}"


def test_the_event_commit_wins_over_a_branch_that_moved_on(source: Path, harness: Harness) -> None:
    event_sha = harness.repository.sha
    (source / "later.txt").write_text("committed after the run started\n")
    git(source, "add", "later.txt")
    git(source, "commit", "--quiet", "-m", "commit 4")

    harness.run(ACTION)

    assert git(harness.workspace, "rev-parse", "HEAD") == event_sha
    assert not (harness.workspace / "later.txt").exists()


def test_a_commit_without_a_ref_leaves_head_detached(source: Path, harness: Harness) -> None:
    harness.repository = dataclasses.replace(harness.repository, ref="")
    io = harness.run(ACTION)
    assert io.outputs == {"ref": "", "commit": harness.repository.sha}
    assert git(harness.workspace, "rev-parse", "--abbrev-ref", "HEAD") == "HEAD"


def test_fetch_depth_two_fetches_two_commits(source: Path, harness: Harness) -> None:
    harness.run(ACTION, {"fetch-depth": "2"})
    assert log_of(harness.workspace) == ["commit 3", "commit 2"]


def test_fetch_depth_zero_is_all_history_branches_and_tags(source: Path, harness: Harness) -> None:
    git(source, "branch", "feature", "HEAD~1")
    git(source, "tag", "v1.0", "HEAD~2")
    git(source, "tag", "--annotate", "v2.0", "--message", "two", "HEAD~1")

    io = harness.run(ACTION, {"fetch-depth": "0"})

    workspace = harness.workspace
    assert io.outputs == {"ref": "refs/heads/main", "commit": harness.repository.sha}
    assert log_of(workspace) == ["commit 3", "commit 2", "commit 1"]
    assert git(workspace, "rev-parse", "--is-shallow-repository") == "false"
    assert git(workspace, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert git(workspace, "tag").splitlines() == ["v1.0", "v2.0"]
    assert git(workspace, "describe", "--tags") == "v2.0-1-g" + harness.repository.sha[:7]
    assert git(workspace, "rev-parse", "origin/feature") == git(source, "rev-parse", "feature")
    assert [argv[1] for argv in io.ran("git")][:1] == ["clone"]


def test_fetch_tags_brings_the_tags_of_the_fetched_commits(source: Path, harness: Harness) -> None:
    git(source, "tag", "v3.0")
    git(source, "tag", "v1.0", "HEAD~2")
    harness.run(ACTION, {"fetch-tags": "true"})
    assert git(harness.workspace, "tag") == "v3.0"


def test_ref_input_names_a_branch_of_the_local_repository(source: Path, harness: Harness) -> None:
    git(source, "branch", "feature", "HEAD~1")
    io = harness.run(ACTION, {"ref": "feature"})
    workspace = harness.workspace
    assert io.outputs == {"ref": "feature", "commit": git(source, "rev-parse", "feature")}
    assert git(workspace, "rev-parse", "--abbrev-ref", "HEAD") == "feature"
    assert (workspace / "src" / "app.py").read_text() == "print('v2')\n"


def test_ref_input_names_a_tag(source: Path, harness: Harness) -> None:
    git(source, "tag", "v1.0", "HEAD~2")
    io = harness.run(ACTION, {"ref": "v1.0"})
    assert io.outputs == {"ref": "v1.0", "commit": git(source, "rev-parse", "v1.0")}
    assert git(harness.workspace, "rev-parse", "--abbrev-ref", "HEAD") == "HEAD"
    assert not (harness.workspace / "docs").exists()


def test_ref_input_can_be_a_full_commit_sha(source: Path, harness: Harness) -> None:
    first = git(source, "rev-parse", "HEAD~2")
    io = harness.run(ACTION, {"ref": first})
    assert io.outputs == {"ref": "", "commit": first}
    assert (harness.workspace / "src" / "app.py").read_text() == "print('v1')\n"


def test_an_unknown_ref_fails_naming_the_repository(source: Path, harness: Harness) -> None:
    with pytest.raises(interface.ActionFailed) as failure:
        harness.run(ACTION, {"ref": "nope"})
    assert failure.value.message == (
        f"A branch or tag with the name 'nope' could not be found in {source}"
    )
    assert failure.value.hint == (
        f"`git -C {source} branch` and `git -C {source} tag` list what exists; "
        "a commit must be given as its full 40-character SHA"
    )


def test_path_places_the_repository_below_the_workspace(source: Path, harness: Harness) -> None:
    harness.run(ACTION, {"path": "deep/shop"})
    target = harness.workspace / "deep" / "shop"
    assert git(target, "rev-parse", "HEAD") == harness.repository.sha
    assert sorted(path.name for path in harness.workspace.iterdir()) == ["deep"]


def test_path_outside_the_workspace_is_refused(source: Path, harness: Harness) -> None:
    with pytest.raises(interface.ActionFailed) as failure:
        harness.run(ACTION, {"path": "../elsewhere"})
    assert failure.value.message == (
        f"Repository path '{harness.root / 'elsewhere'}' is not under '{harness.workspace}'"
    )


def test_another_repository_fails_and_says_what_to_do(source: Path, harness: Harness) -> None:
    with pytest.raises(interface.ActionFailed) as failure:
        harness.run(ACTION, {"repository": "octo/other"})
    assert failure.value.message == (
        "repository 'octo/other' cannot be checked out offline: Shipyard's built-in "
        "actions/checkout serves only the repository the run started from (octo/shop)"
    )
    assert failure.value.hint == (
        "clone the other repository in a `run:` step from a local copy "
        "(git clone /path/to/other other), or drop `repository:` to check out this one"
    )


def test_naming_this_repository_and_a_token_is_fine(source: Path, harness: Harness) -> None:
    io = harness.run(
        ACTION, {"repository": "Octo/Shop", "token": "ghs_x", "persist-credentials": "false"}
    )
    assert io.outputs["commit"] == harness.repository.sha
    assert io.warnings == []


def test_unsupported_inputs_warn_and_check_out_anyway(source: Path, harness: Harness) -> None:
    io = harness.run(ACTION, {"submodules": "recursive", "lfs": "true", "filter": "blob:none"})
    assert io.warnings == [
        "actions/checkout: input `submodules` is not supported by Shipyard; submodules are "
        "not checked out (they would need the network)",
        "actions/checkout: input `lfs` is not supported by Shipyard; Git LFS files are not fetched",
        "actions/checkout: input `filter` is not supported by Shipyard; the fetch is not filtered",
    ]
    assert git(harness.workspace, "rev-parse", "HEAD") == harness.repository.sha


def test_a_second_checkout_cleans_and_reuses_the_clone(source: Path, harness: Harness) -> None:
    git(source, "branch", "feature", "HEAD~1")
    harness.run(ACTION, {"fetch-depth": "0"})
    workspace = harness.workspace
    assert "refs/remotes/origin/feature" in git(workspace, "branch", "--all", "--format=%(refname)")
    (workspace / "stray.txt").write_text("left by a step\n")
    (workspace / "src" / "app.py").write_text("edited\n")

    io = harness.run(ACTION, {"fetch-depth": "2"})

    assert not (workspace / "stray.txt").exists()
    assert (workspace / "src" / "app.py").read_text() == "print('v3')\n"
    assert log_of(workspace) == ["commit 3", "commit 2"]
    assert not any(argv[1] in ("init", "clone") for argv in io.ran("git"))
    assert git(workspace, "branch", "--all", "--format=%(refname)").split() == [
        "refs/heads/main",
        "refs/remotes/origin/main",
    ]


def test_existing_files_that_are_not_a_clone_are_deleted_first(
    source: Path, harness: Harness
) -> None:
    (harness.workspace / "old.txt").write_text("old\n")
    io = harness.run(ACTION)
    assert not (harness.workspace / "old.txt").exists()
    assert f"Deleting the contents of '{harness.workspace}'" in io.lines


def test_a_directory_outside_git_is_copied_without_leftovers(
    harness: Harness, tmp_path: Path
) -> None:
    source = tmp_path / "plain"
    for name in ("app.py", "pkg/mod.py", ".venv/bin/python", "pkg/__pycache__/mod.pyc", ".git/x"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(name)
    (source / "run.sh").write_text("#!/bin/sh\n")
    (source / "run.sh").chmod(0o755)
    harness.repository = interface.RepositoryInfo(
        root=source, sha="", ref="refs/heads/main", name="local/plain"
    )

    io = harness.run(ACTION)

    copied = sorted(
        str(path.relative_to(harness.workspace)) for path in harness.workspace.rglob("*")
    )
    assert copied == ["app.py", "pkg", "pkg/mod.py", "run.sh"]
    assert (harness.workspace / "run.sh").stat().st_mode & 0o777 == 0o755
    assert io.outputs == {"ref": "refs/heads/main", "commit": ""}
    assert io.lines[-1] == (
        f"{source} is not a git repository: copying its files into {harness.workspace} "
        "(without .git, .venv and __pycache__)"
    )


def test_refspecs_follow_actions_checkout() -> None:
    sha = "a" * 40
    assert checkout.refspecs("refs/heads/main", sha) == [f"+{sha}:refs/remotes/origin/main"]
    assert checkout.refspecs("refs/pull/7/merge", sha) == [f"+{sha}:refs/remotes/pull/7/merge"]
    assert checkout.refspecs("refs/tags/v1", sha) == [f"+{sha}:refs/tags/v1"]
    assert checkout.refspecs("", sha) == [sha]
    assert checkout.refspecs("dev", "") == [
        "+refs/heads/dev*:refs/remotes/origin/dev*",
        "+refs/tags/dev*:refs/tags/dev*",
    ]
    assert checkout.refspecs("refs/tags/v1", "") == ["+refs/tags/v1:refs/tags/v1"]
    assert checkout.all_history_refspecs("refs/pull/7/merge", sha) == [
        "+refs/heads/*:refs/remotes/origin/*",
        "+refs/tags/*:refs/tags/*",
        f"+{sha}:refs/remotes/pull/7/merge",
    ]
