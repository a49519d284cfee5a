"""@actions/glob semantics (used by upload-artifact) against real directory trees."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.pipeline.actions import _glob

FILES = (
    "a.txt",
    "b.log",
    "src/app.py",
    "src/util/x.py",
    "src/util/y.txt",
    "src/.hidden/z.py",
    "docs/[draft].md",
    "docs/guide.md",
)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    for name in FILES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    return root


def found(root: Path, text: str, *, include_hidden: bool = False) -> list[str]:
    patterns = _glob.parse(text, cwd=root, home=root)
    return [
        str(path.relative_to(root))
        for path in _glob.find(patterns, include_hidden=include_hidden)
        if path.is_file()
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("*.txt", ["a.txt"]),
        ("**/*.py", ["src/app.py", "src/util/x.py"]),
        ("src/**", ["src/app.py", "src/util/x.py", "src/util/y.txt"]),
        ("src", ["src/app.py", "src/util/x.py", "src/util/y.txt"]),
        ("src/*/?.py", ["src/util/x.py"]),
        ("[ab].*", ["a.txt", "b.log"]),
        ("[!a].*", ["b.log"]),
        ("docs/\\[draft].md", ["docs/[draft].md"]),
        ("src\n!src/util", ["src/app.py"]),
        ("src\n!src/util\nsrc/util/y.txt", ["src/app.py", "src/util/y.txt"]),
        ("# a comment\n\n  a.txt  ", ["a.txt"]),
        ("nothing/here", []),
    ],
)
def test_patterns_match_as_actions_glob_does(tree: Path, text: str, expected: list[str]) -> None:
    assert found(tree, text) == expected


def test_hidden_entries_are_skipped_unless_included(tree: Path) -> None:
    assert "src/.hidden/z.py" not in found(tree, "**/*.py")
    assert "src/.hidden/z.py" in found(tree, "**/*.py", include_hidden=True)
    assert found(tree, "src/.hidden") == []


def test_a_trailing_slash_matches_the_directory_and_its_contents(tree: Path) -> None:
    patterns = _glob.parse("src/util/", cwd=tree, home=tree)
    matched = _glob.find(patterns, include_hidden=False)
    assert matched == [
        tree / "src" / "util",
        tree / "src" / "util" / "x.py",
        tree / "src" / "util" / "y.txt",
    ]


def test_search_paths_drop_duplicates_and_descendants(tree: Path) -> None:
    patterns = _glob.parse("src/util/*.py\nsrc/**\ndocs/*.md\n!a.txt", cwd=tree, home=tree)
    assert _glob.search_paths(patterns) == [tree / "src", tree / "docs"]


def test_dot_segments_are_refused(tree: Path) -> None:
    with pytest.raises(_glob.PatternError) as failure:
        _glob.parse("src/../a.txt", cwd=tree, home=tree)
    assert str(failure.value) == (
        f"invalid pattern '{tree}/src/../a.txt': relative pathing '.' and '..' is not allowed"
    )


def test_a_symlink_cycle_is_walked_once(tree: Path) -> None:
    (tree / "src" / "util" / "loop").symlink_to(tree / "src")
    assert found(tree, "src/**/x.py") == ["src/util/x.py"]


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("dist-*", "dist-linux", True),
        ("dist-*", "docs", False),
        ("dist-{linux,macos}", "dist-macos", True),
        ("dist-{linux,macos}", "dist-windows", False),
        ("*", ".hidden", False),
        (".*", ".hidden", True),
        ("cov?rage", "coverage", True),
    ],
)
def test_artifact_names_match_like_minimatch(pattern: str, name: str, expected: bool) -> None:
    assert _glob.match_name(pattern, name) is expected
