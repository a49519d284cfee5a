"""The local repository a run starts from: its root, the commit, the ref and a GitHub-style name."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from shipyard.core import errors
from shipyard.pipeline.actions import interface


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


def discover(start: Path, ref: str | None = None) -> interface.RepositoryInfo:
    """The repository containing ``start``; a directory outside git is used as it is."""
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
    return interface.RepositoryInfo(
        root=root, sha=sha, ref=_full_ref(root, target), name=_name(root)
    )


def _full_ref(root: Path, target: str) -> str:
    full = _git(root, "rev-parse", "--symbolic-full-name", target)
    if full and full.startswith("refs/"):
        return full
    tag = _git(root, "describe", "--tags", "--exact-match", target)
    if tag:
        return f"refs/tags/{tag}"
    return "refs/heads/main" if target == "HEAD" else target


def _name(root: Path) -> str:
    url = _git(root, "config", "--get", "remote.origin.url") or ""
    match = re.search(r"[:/]([^/:]+)/([^/]+?)(?:\.git)?/?$", url)
    if match:
        return f"{match.group(1)}/{match.group(2)}"
    return f"local/{root.name}"
