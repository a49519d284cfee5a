"""hashFiles() on real files: GitHub's matching rules, search order and hash."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from shipyard.pipeline import hashfiles


def _digest(*contents: bytes) -> str:
    """GitHub's hash: SHA-256 over the concatenated SHA-256 digests of the files, in order."""
    total = hashlib.sha256()
    for content in contents:
        total.update(hashlib.sha256(content).digest())
    return total.hexdigest()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "workspace"
    files = {
        "src/app.py": b"app",
        "src/lib/util.py": b"util",
        "src/lib/data.json": b"{}",
        "a.txt": b"a-text",
        "a/b": b"a-slash-b",
        ".github/ci.yml": b"ci",
        "README.md": b"readme",
    }
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    (tmp_path / "outside.py").write_bytes(b"outside")
    return root


def test_no_match_is_the_empty_string(workspace: Path) -> None:
    assert hashfiles.hash_files(workspace, ["**/*.rs"]) == ""
    assert hashfiles.hash_files(workspace, [""]) == ""


def test_one_file_is_the_hash_of_its_hash(workspace: Path) -> None:
    assert hashfiles.hash_files(workspace, ["README.md"]) == _digest(b"readme")


def test_globstar_matches_hidden_directories_in_search_order(workspace: Path) -> None:
    assert hashfiles.hash_files(workspace, ["**/*.py", "**/*.yml"]) == _digest(
        b"ci", b"app", b"util"
    )


def test_order_is_depth_first_with_names_sorted_by_bytes(workspace: Path) -> None:
    # The directory `a` is searched before the file `a.txt`, although "a.txt" < "a/b" as strings.
    assert hashfiles.hash_files(workspace, ["a*", "a/**"]) == _digest(b"a-slash-b", b"a-text")


def test_a_directory_pattern_includes_everything_below(workspace: Path) -> None:
    assert hashfiles.hash_files(workspace, ["src"]) == _digest(b"app", b"{}", b"util")
    assert hashfiles.hash_files(workspace, ["src/"]) == _digest(b"app", b"{}", b"util")
    assert hashfiles.hash_files(workspace, ["./src/lib"]) == _digest(b"{}", b"util")


def test_negation_excludes_and_later_patterns_win(workspace: Path) -> None:
    assert hashfiles.hash_files(workspace, ["src/**", "!**/*.json"]) == _digest(b"app", b"util")
    assert hashfiles.hash_files(workspace, ["src/**", "!src/lib", "src/lib/util.py"]) == _digest(
        b"app", b"util"
    )
    assert hashfiles.hash_files(workspace, ["!!src/app.py"]) == _digest(b"app")


def test_patterns_may_be_several_lines_with_comments(workspace: Path) -> None:
    # Each literal pattern is searched on its own, in the order the patterns are given.
    patterns = ["# the docs\nREADME.md\n\n  a.txt  \n"]
    assert hashfiles.hash_files(workspace, patterns) == _digest(b"readme", b"a-text")


def test_wildcards_within_a_segment(workspace: Path) -> None:
    assert hashfiles.hash_files(workspace, ["src/*.py"]) == _digest(b"app")
    assert hashfiles.hash_files(workspace, ["src/lib/[du]*"]) == _digest(b"{}", b"util")
    assert hashfiles.hash_files(workspace, ["src/lib/[!d]*"]) == _digest(b"util")
    assert hashfiles.hash_files(workspace, ["?.txt"]) == _digest(b"a-text")
    assert hashfiles.hash_files(workspace, ["src/[a]pp.py"]) == _digest(b"app")


def test_files_outside_the_workspace_are_ignored(workspace: Path) -> None:
    outside = workspace.parent / "outside.py"
    assert hashfiles.hash_files(workspace, [str(outside)]) == ""
    everything_above = f"{workspace.parent}/**/*.py"
    assert hashfiles.hash_files(workspace, [everything_above]) == hashfiles.hash_files(
        workspace, ["**/*.py"]
    )


def test_relative_segments_are_rejected_with_githubs_message(workspace: Path) -> None:
    with pytest.raises(hashfiles.HashFilesError) as caught:
        hashfiles.hash_files(workspace, ["../outside.py"])
    assert caught.value.message == (
        "Invalid pattern '../outside.py'. Relative pathing '.' and '..' is not allowed."
    )
    with pytest.raises(hashfiles.HashFilesError):
        hashfiles.hash_files(workspace, ["src/./app.py"])


def test_only_one_option_exists(workspace: Path) -> None:
    with pytest.raises(hashfiles.HashFilesError) as caught:
        hashfiles.hash_files(workspace, ["--recursive", "**"])
    assert caught.value.message == (
        "Invalid glob option --recursive, available option: '--follow-symbolic-links'."
    )


def test_symbolic_links_are_followed_only_when_asked(workspace: Path) -> None:
    (workspace / "linked").symlink_to(workspace / "src" / "lib", target_is_directory=True)
    (workspace / "loop").symlink_to(workspace, target_is_directory=True)
    (workspace / "file-link.py").symlink_to(workspace / "src" / "app.py")
    # Not following: a link to a file is hashed through the link, a link to a directory skipped.
    assert hashfiles.hash_files(workspace, ["*.py", "linked/**"]) == _digest(b"app")
    following = hashfiles.hash_files(workspace, ["--follow-symbolic-links", "*.py", "linked/**"])
    assert following == _digest(b"app", b"{}", b"util")
    # A cycle through a link ends instead of looping.
    assert hashfiles.hash_files(workspace, ["--Follow-Symbolic-Links", "loop/README.md"]) == (
        _digest(b"readme")
    )


def test_a_broken_link_is_an_error_unless_links_are_followed(workspace: Path) -> None:
    (workspace / "broken.py").symlink_to(workspace / "missing.py")
    with pytest.raises(hashfiles.HashFilesError) as caught:
        hashfiles.hash_files(workspace, ["*.py"])
    assert "broken symbolic link" in caught.value.message
    assert hashfiles.hash_files(workspace, ["--follow-symbolic-links", "*.py"]) == ""


def test_only_regular_files_are_read(workspace: Path) -> None:
    os.mkfifo(workspace / "pipe.py")  # reading it would block forever
    assert hashfiles.hash_files(workspace, ["*.py", "src/app.py"]) == _digest(b"app")


def test_a_workspace_given_through_a_link_is_the_same_workspace(workspace: Path) -> None:
    alias = workspace.parent / "alias"
    alias.symlink_to(workspace, target_is_directory=True)
    assert hashfiles.hash_files(alias, ["README.md"]) == _digest(b"readme")


def test_escaped_wildcards_are_literal(workspace: Path) -> None:
    (workspace / "star*.txt").write_bytes(b"star")
    (workspace / "starry.txt").write_bytes(b"starry")
    assert hashfiles.hash_files(workspace, ["star\\*.txt"]) == _digest(b"star")
    assert hashfiles.hash_files(workspace, ["star*.txt"]) == _digest(b"star", b"starry")


def test_many_wildcards_against_a_long_name_stay_fast(workspace: Path) -> None:
    (workspace / ("a" * 200)).write_bytes(b"long")
    start = time.perf_counter()
    assert hashfiles.hash_files(workspace, ["*a*a*a*a*a*a*a*a*a*a*b"]) == ""
    assert time.perf_counter() - start < 2
