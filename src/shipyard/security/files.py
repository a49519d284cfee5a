"""Walking the scanned tree: which files a scanner sees, and reading them as text.

Every scanner of the working tree walks it through here, so they all skip the same directories
(``.git``, virtual environments, ``node_modules`` ..., and in a git repository what git ignores)
and agree on which path a finding names.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

BINARY_PROBE = 8192
"""A file with a NUL byte in its first this-many bytes is binary and never read as text."""


def walk(root: Path, excludes: tuple[str, ...]) -> Iterator[tuple[str, Path]]:
    """Every regular file below ``root`` as (relative ``/`` path, path), in a stable order.

    A directory is skipped when its name or its root-relative path is in ``excludes``; symbolic
    links are not followed (a link could lead outside the tree or loop). In a git work tree, the
    files git ignores are skipped too (build output, caches, local virtual environments).
    """
    listed = _git_files(root)
    for shown, path in _walk(root, excludes):
        if listed is None or shown in listed:
            yield shown, path


def _git_files(root: Path) -> frozenset[str] | None:
    """The files git tracks or would track under ``root``; None outside a work tree."""
    if not any((folder / ".git").exists() for folder in (root, *root.resolve().parents)):
        return None
    try:
        done = subprocess.run(
            [
                "git",
                "-C",
                str(root),
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return frozenset(
        name.decode("utf-8", "surrogateescape") for name in done.stdout.split(b"\0") if name
    )


def _walk(root: Path, excludes: tuple[str, ...]) -> Iterator[tuple[str, Path]]:
    names = {item for item in excludes if "/" not in item}
    paths = {item.strip("/") for item in excludes if "/" in item}
    stack: list[tuple[str, str]] = [("", str(root))]
    while stack:
        relative, directory = stack.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
        except OSError:
            continue
        subdirectories: list[tuple[str, str]] = []
        for entry in entries:
            shown = f"{relative}/{entry.name}" if relative else entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in names and shown not in paths:
                        subdirectories.append((shown, entry.path))
                elif entry.is_file(follow_symlinks=False):
                    yield shown, Path(entry.path)
            except OSError:
                continue
        stack.extend(reversed(subdirectories))


def read_text(path: Path, limit: int) -> str | None:
    """A file's text, or None when it is binary, larger than ``limit`` bytes or unreadable.

    Invalid UTF-8 is kept as surrogate escapes, so offsets still match the file's characters.
    """
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError:
        return None
    if len(data) > limit or b"\x00" in data[:BINARY_PROBE]:
        return None
    return data.decode("utf-8", "surrogateescape")


def line_of(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of a character offset."""
    line = text.count("\n", 0, offset) + 1
    start = text.rfind("\n", 0, offset) + 1
    return line, offset - start + 1
