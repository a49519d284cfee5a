"""Dockerfile basics: the image runs as root, a base image is not pinned, ``ADD`` fetches a URL.

Dockerfiles are read line by line (continuations joined, comments dropped); only the last stage's
``USER`` decides who the image runs as, since earlier stages are build stages.
"""

from __future__ import annotations

import re
import time

from shipyard.security import checks, findings, interface
from shipyard.security import files as tree

_S = findings.Severity
RULES = checks.rules(
    checks.rule(
        "docker/runs-as-root",
        "Container runs as root",
        "The final image has no USER, or its USER is root.",
        "Add `USER 10001` (a non-root user) in the final stage; a process that escapes "
        "the app then is not root in the container.",
        _S.MEDIUM,
        "docker",
    ),
    checks.rule(
        "docker/unpinned-base-image",
        "Base image not pinned",
        "A FROM uses the `latest` tag or no tag at all.",
        "Pin a version tag, or better a digest (`python:3.12-slim@sha256:...`), so builds "
        "are reproducible and reviewed.",
        _S.MEDIUM,
        "docker",
        "supply-chain",
    ),
    checks.rule(
        "docker/add-url",
        "ADD of a URL",
        "ADD downloads a remote file into the image without checking it.",
        "Download with `RUN curl -fsSLO ...` and verify a checksum, or use `ADD "
        "--checksum=sha256:...`.",
        _S.MEDIUM,
        "docker",
        "supply-chain",
    ),
)
_NAMES = re.compile(r"(?:.*\.)?Dockerfile(?:\..*)?\Z|.*\.dockerfile\Z", re.IGNORECASE)


class DockerfileScanner:
    """Every ``Dockerfile`` (and ``*.Dockerfile``, ``Dockerfile.*``) in the tree."""

    name = "dockerfile"

    def scan(self, context: interface.ScanContext) -> interface.ScanResult:
        started = time.perf_counter()
        found = checks.Checks(self.name, RULES)
        for shown, path in tree.walk(context.root, context.excludes):
            if not _NAMES.match(path.name):
                continue
            text = tree.read_text(path, 1024 * 1024)
            if text is not None:
                check_dockerfile(shown, text, found)
        return interface.ScanResult(
            scanner=self.name,
            tool="shipyard-dockerfile",
            version="1",
            rules=RULES,
            findings=found.found,
            seconds=time.perf_counter() - started,
        )


def instructions(text: str) -> list[tuple[int, str, str]]:
    """(line, INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    found: list[tuple[int, str, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        keyword, _, rest = whole.partition(" ")
        found.append((start, keyword.upper(), rest.strip()))
    return found


def check_dockerfile(shown: str, text: str, found: checks.Checks) -> None:
    """Every check over one Dockerfile's text."""
    stages: set[str] = set()
    user: tuple[int, str] | None = None
    last_from = 0
    for line, keyword, arguments in instructions(text):
        if keyword == "FROM":
            last_from, user = line, None
            words = [w for w in arguments.split() if not w.startswith("--")]
            image = words[0] if words else ""
            if len(words) >= 3 and words[1].lower() == "as":
                stages.add(words[2].lower())
            _base_image(found, shown, line, image, stages)
        elif keyword == "USER":
            user = (line, arguments.split(":")[0].strip())
        elif _fetches_unchecked(keyword, arguments):
            found.report(
                "docker/add-url",
                shown,
                line,
                f"ADD downloads `{arguments}`",
                key=f"add:{arguments}",
            )
    if last_from and (user is None or user[1] in ("root", "0")):
        where = user[0] if user else last_from
        message = "the final stage runs as root" + ("" if user else " (no USER)")
        found.report("docker/runs-as-root", shown, where, message, key="user")


def _base_image(found: checks.Checks, shown: str, line: int, image: str, stages: set[str]) -> None:
    lowered = image.lower()
    if not image or lowered == "scratch" or lowered in stages or "$" in image or "@" in image:
        return
    name = image.rsplit("/", 1)[-1]
    tag = name.partition(":")[2]
    if not tag or tag == "latest":
        found.report(
            "docker/unpinned-base-image",
            shown,
            line,
            f"`FROM {image}` uses {'`latest`' if tag else 'no tag (latest)'}",
            key=f"from:{image}",
        )


def _fetches_unchecked(keyword: str, arguments: str) -> bool:
    """``ADD https://...`` without ``--checksum=``."""
    fetches = keyword == "ADD" and re.search(r"(?:^|\s)https?://", arguments) is not None
    return fetches and "--checksum=" not in arguments
