"""The local repository a run starts from: its root, the commit, the ref and a GitHub-style name."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from shipyard.core import errors
from shipyard.pipeline.actions import interface

_TREES: dict[tuple[Path, str], str] = {}
"""Tree ids already read, by (root, commit): the run cache and the job cache ask again."""


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _git_both(root: Path, first: list[str], second: list[str]) -> tuple[str | None, str | None]:
    """Two read-only git commands run side by side (each costs a few milliseconds to start)."""
    children: list[subprocess.Popen[str]] = []
    try:
        for args in (first, second):
            children.append(
                subprocess.Popen(
                    ["git", "-C", str(root), *args],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                )
            )
    except OSError:
        for child in children:  # the first started, the second could not: not left behind
            child.kill()
            child.communicate()
        return None, None
    answers: list[str | None] = []
    for child in children:
        try:
            out, _ = child.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            answers.append(None)
            continue
        answers.append(out if child.returncode == 0 else None)
    return answers[0], answers[1]


def discover(start: Path, ref: str | None = None) -> interface.RepositoryInfo:
    """The repository containing ``start``; a directory outside git is used as it is.

    The usual case costs two git processes, run side by side: one ``rev-parse`` for the top
    directory, the commit, its tree and the ref's full name, and one for the origin's URL.
    """
    target = ref or "HEAD"
    parsed, url = _git_both(
        start,
        [
            "rev-parse",
            "--show-toplevel",
            f"{target}^{{commit}}",
            f"{target}^{{tree}}",
            "--symbolic-full-name",
            target,
        ],
        ["config", "--get", "remote.origin.url"],
    )
    lines = parsed.splitlines() if parsed is not None else []
    if len(lines) < 3:
        return _discover_slowly(start, ref)
    root, sha, tree = Path(lines[0]), lines[1], lines[2]
    _TREES[(root, sha)] = tree
    return interface.RepositoryInfo(
        root=root,
        sha=sha,
        ref=_full_ref(root, target, lines[3] if len(lines) > 3 else ""),
        name=_name(root, (url or "").strip()),
    )


def tree_of(root: Path, sha: str) -> str | None:
    """The tree id of commit ``sha``; None outside git."""
    if not sha:
        return None
    tree = _TREES.get((root, sha))
    if tree is None:
        tree = _git(root, "rev-parse", f"{sha}^{{tree}}")
        if tree is None:
            return None
        _TREES[(root, sha)] = tree
    return tree


def _discover_slowly(start: Path, ref: str | None) -> interface.RepositoryInfo:
    """One question at a time, to say exactly what is missing (no repository, commit or ref)."""
    top = _git(start, "rev-parse", "--show-toplevel")
    root = Path(top) if top else start.resolve()
    if top is None:
        return interface.RepositoryInfo(
            root=root, sha="", ref=ref or "refs/heads/main", name=f"local/{root.name}"
        )
    target = ref or "HEAD"
    sha = _git(root, "rev-parse", "--verify", "--quiet", f"{target}^{{commit}}")
    if sha is None:
        if ref is None:
            raise errors.UsageError(
                f"the repository at {root} has no commits yet",
                hint="commit your work first: Shipyard checks out commits, as GitHub does",
            )
        raise errors.UsageError(
            f"--ref {ref}: no such branch, tag or commit in {root}",
            hint="list them with `git branch -a` and `git tag`",
        )
    url = _git(root, "config", "--get", "remote.origin.url") or ""
    return interface.RepositoryInfo(
        root=root, sha=sha, ref=_full_ref(root, target), name=_name(root, url)
    )


def _full_ref(root: Path, target: str, full: str | None = None) -> str:
    """The full name of ``target`` (``refs/heads/...``, ``refs/tags/...``), as the event's ref."""
    if full is None:
        full = _git(root, "rev-parse", "--symbolic-full-name", target)
    if full and full.startswith("refs/"):
        return full
    tag = _git(root, "describe", "--tags", "--exact-match", target)
    if tag:
        return f"refs/tags/{tag}"
    return "refs/heads/main" if target == "HEAD" else target


def _name(root: Path, url: str) -> str:
    match = re.search(r"[:/]([^/:]+)/([^/]+?)(?:\.git)?/?$", url)
    if match:
        return f"{match.group(1)}/{match.group(2)}"
    return f"local/{root.name}"
