"""The lines every commit of a repository added, for scanning history for secrets.

One ``git log --all -p`` streams every commit's patch; only added lines matter (a secret that was
ever committed was added by some commit), so each (commit, file) becomes one text of its added
lines and a map from those lines back to the file's line numbers in that commit.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from shipyard.core import errors

_HUNK = re.compile(r"@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")
_COMMIT_MARK = "\x01commit "


@dataclass(slots=True)
class AddedText:
    """The lines one commit added to one file."""

    commit: str
    path: str
    lines: list[str] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    """The file line number of each added line."""

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def is_repository(root: Path) -> bool:
    """Whether ``root`` is inside a git work tree."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--is-inside-work-tree"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and done.stdout.strip() == "true"


def added_texts(root: Path, timeout: float = 600.0) -> Iterator[AddedText]:
    """Every (commit, file) text of added lines, over all refs, newest commit first."""
    argv = [
        "git", "-C", str(root), "log", "--all", "-p", "-U0", "--no-color", "--no-ext-diff",
        "--no-renames", "--no-textconv", f"--format={_COMMIT_MARK}%H",
    ]  # fmt: skip
    try:
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as error:
        raise errors.ExecutionError(f"cannot run git to read history: {error}") from error
    assert process.stdout is not None
    try:
        yield from _parse(process.stdout)
    finally:
        process.stdout.close()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        stderr = process.stderr.read().decode("utf-8", "replace") if process.stderr else ""
        if process.stderr:
            process.stderr.close()
    if process.returncode not in (0, None):
        raise errors.ExecutionError(
            f"git log failed reading history: {stderr.strip()}",
            hint="check that the repository is not damaged (`git fsck`)",
        )


def _parse(stream: IO[bytes]) -> Iterator[AddedText]:
    commit = ""
    current: AddedText | None = None
    number = 0
    header = False  # between `diff --git` and the first `@@`: `+++ b/path` names the file
    for raw in stream:
        line = raw.decode("utf-8", "surrogateescape").rstrip("\n")
        if line.startswith(_COMMIT_MARK):
            if current is not None and current.lines:
                yield current
            commit, current, header = line[len(_COMMIT_MARK) :], None, False
        elif line.startswith("diff --git "):
            if current is not None and current.lines:
                yield current
            current, header = None, True
        elif header and line.startswith("+++ "):
            target = line[4:]
            current = AddedText(commit, target[2:]) if target.startswith("b/") else None
        elif line.startswith("@@"):
            header = False
            found = _HUNK.match(line)
            number = int(found.group(1)) if found else 0
        elif current is not None and line.startswith("+"):
            current.lines.append(line[1:])
            current.numbers.append(number)
            number += 1
    if current is not None and current.lines:
        yield current
