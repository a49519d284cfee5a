"""Dependency manifests and lock files in, resolved packages out.

Reads requirements files (``-r``/``-c`` includes, ``--hash`` options, line continuations),
``pyproject.toml`` (PEP 621 and Poetry), ``poetry.lock``, ``uv.lock``, ``Pipfile.lock`` and
``package-lock.json`` (v1 to v3). A package whose exact version is not known (a range, a URL, a
local path) comes back with ``version=None`` and the reason, so the scanner reports it as not
audited. Where a lock file sits beside a ``pyproject.toml``, the lock is the truth and the
project file's ranges are not reported twice.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from packaging import requirements as pep508

from shipyard.core.frozen import frozen
from shipyard.security import files as tree

MAX_MANIFEST_BYTES = 20 * 1024 * 1024
REQUIREMENTS = re.compile(
    r"(?:.*[-_.])?requirements(?:[-_.].*)?\.(?:txt|in)\Z|.*\.requirements\.txt\Z"
)
LOCKS = frozenset({"poetry.lock", "uv.lock", "Pipfile.lock", "package-lock.json"})


@frozen
class Dependency:
    """One package a manifest asks for: its exact version, or why it has none."""

    ecosystem: str  # "PyPI" or "npm"
    name: str
    version: str | None
    path: str
    line: int = 1
    reason: str | None = None
    """Why there is no exact version (``version`` None)."""


@frozen
class Problem:
    """A manifest that could not be read."""

    path: str
    message: str


def discover(root: Path, excludes: tuple[str, ...]) -> tuple[list[Dependency], list[Problem]]:
    """Every dependency of every manifest under ``root``."""
    found: list[Dependency] = []
    problems: list[Problem] = []
    paths = [(shown, path) for shown, path in tree.walk(root, excludes) if _is_manifest(path.name)]
    locked_dirs = {shown.rpartition("/")[0] for shown, path in paths if path.name in LOCKS}
    included: set[str] = set()
    for shown, path in paths:
        if shown in included:
            continue
        try:
            if path.name == "pyproject.toml":
                if shown.rpartition("/")[0] in locked_dirs:
                    continue
                found.extend(_pyproject(path, shown))
            elif path.name in LOCKS:
                found.extend(_LOCK_READERS[path.name](path, shown))
            else:
                found.extend(read_requirements(root, path, shown, included))
        except (ValueError, KeyError, TypeError, OSError, tomllib.TOMLDecodeError) as error:
            problems.append(
                Problem(shown, str(error).splitlines()[0] if str(error) else "unreadable")
            )
    return found, problems


def _is_manifest(name: str) -> bool:
    return name == "pyproject.toml" or name in LOCKS or bool(REQUIREMENTS.match(name))


def _text(path: Path) -> str:
    text = tree.read_text(path, MAX_MANIFEST_BYTES)
    if text is None:
        raise ValueError("binary or too large to be a manifest")
    return text


# -- requirements files ----------------------------------------------------------------------


def read_requirements(
    root: Path, path: Path, shown: str, included: set[str], depth: int = 0
) -> Iterator[Dependency]:
    """A requirements file and the files it includes with ``-r`` / ``-c`` (at most 10 deep)."""
    included.add(shown)
    for number, line in _logical_lines(_text(path)):
        option = re.match(r"(-r|-c|--requirement|--constraint)[=\s]\s*(\S+)", line)
        if option:
            target = (path.parent / option.group(2)).resolve()
            try:
                relative = target.relative_to(root.resolve()).as_posix()
            except ValueError:
                raise ValueError(
                    f"line {number}: {option.group(2)} is outside the scanned tree"
                ) from None
            if depth >= 10 or relative in included:
                continue
            included.add(relative)
            if not target.is_file():
                raise ValueError(f"line {number}: included file {option.group(2)} does not exist")
            yield from read_requirements(root, target, relative, included, depth + 1)
            continue
        if line.startswith("-"):
            if line.startswith(("-e", "--editable")):
                yield Dependency(
                    "PyPI", line.split()[-1], None, shown, number, "an editable install"
                )
            continue
        yield _requirement(line, shown, number)


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*", "", raw).strip()
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = (pending + line).strip()
        pending = ""
        line = re.sub(r"\s--hash[=\s]\S+", "", line).strip()
        if line:
            yield start, line


def _requirement(text: str, shown: str, line: int) -> Dependency:
    try:
        parsed = pep508.Requirement(text)
    except pep508.InvalidRequirement:
        name = text.split(maxsplit=1)[0]
        return Dependency("PyPI", name, None, shown, line, "not a PEP 508 requirement")
    return _from_requirement(parsed, shown, line)


def _from_requirement(parsed: pep508.Requirement, shown: str, line: int) -> Dependency:
    if parsed.url:
        return Dependency("PyPI", parsed.name, None, shown, line, f"installed from {parsed.url}")
    specifiers = list(parsed.specifier)
    if (
        len(specifiers) == 1
        and specifiers[0].operator in ("==", "===")
        and "*" not in specifiers[0].version
    ):
        return Dependency("PyPI", parsed.name, specifiers[0].version, shown, line)
    wanted = str(parsed.specifier) or "any version"
    return Dependency("PyPI", parsed.name, None, shown, line, f"not pinned ({wanted})")


# -- pyproject.toml ---------------------------------------------------------------------------


def _pyproject(path: Path, shown: str) -> Iterator[Dependency]:
    text = _text(path)
    data = tomllib.loads(text)
    project = data.get("project") or {}
    own = str(project.get("name", ""))
    lists = [project.get("dependencies") or []]
    lists.extend((project.get("optional-dependencies") or {}).values())
    lists.extend(v for v in (data.get("dependency-groups") or {}).values())
    for items in lists:
        for item in items:
            if not isinstance(item, str):
                continue
            parsed = pep508.Requirement(item)
            if parsed.name != own:
                yield _from_requirement(parsed, shown, _line_of(text, item))
    poetry = (data.get("tool") or {}).get("poetry") or {}
    tables = [poetry.get("dependencies") or {}, poetry.get("dev-dependencies") or {}]
    tables.extend(
        (group.get("dependencies") or {}) for group in (poetry.get("group") or {}).values()
    )
    for table in tables:
        for name, spec in table.items():
            if name.lower() == "python":
                continue
            yield _poetry_dependency(name, spec, shown, _line_of(text, name))


def _poetry_dependency(name: str, spec: Any, shown: str, line: int) -> Dependency:
    wanted = spec.get("version") if isinstance(spec, dict) else spec
    if isinstance(spec, dict) and ("path" in spec or "git" in spec or "url" in spec):
        return Dependency("PyPI", name, None, shown, line, "installed from a path, git or a URL")
    if isinstance(wanted, str):
        exact = re.fullmatch(r"(?:==)?\s*(\d[\w.!+-]*)", wanted.strip())
        if exact:
            return Dependency("PyPI", name, exact.group(1), shown, line)
    return Dependency("PyPI", name, None, shown, line, f"not pinned ({wanted or 'any version'})")


def _line_of(text: str, needle: str) -> int:
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else 1


# -- lock files -------------------------------------------------------------------------------


def _toml_lock(path: Path, shown: str) -> Iterator[Dependency]:
    text = _text(path)
    data = tomllib.loads(text)
    for package in data.get("package") or []:
        name, version = str(package.get("name", "")), package.get("version")
        source = package.get("source") or {}
        if not name:
            continue
        if isinstance(source, Mapping) and (
            {"editable", "virtual", "directory", "path"} & set(source)
            or source.get("type") in ("directory", "file", "git", "url")
        ):
            continue  # the project itself or a local package: nothing to look up
        line = _line_of(text, f'name = "{name}"')
        if isinstance(version, str):
            yield Dependency("PyPI", name, version, shown, line)
        else:
            yield Dependency("PyPI", name, None, shown, line, "no version in the lock file")


def _pipfile_lock(path: Path, shown: str) -> Iterator[Dependency]:
    text = _text(path)
    data = json.loads(text)
    for section in ("default", "develop"):
        for name, entry in (data.get(section) or {}).items():
            line = _line_of(text, f'"{name}"')
            wanted = entry.get("version") if isinstance(entry, dict) else None
            if isinstance(wanted, str) and wanted.startswith("=="):
                yield Dependency("PyPI", name, wanted[2:], shown, line)
            else:
                yield Dependency("PyPI", name, None, shown, line, "not pinned in Pipfile.lock")


def _package_lock(path: Path, shown: str) -> Iterator[Dependency]:
    text = _text(path)
    data = json.loads(text)
    packages = data.get("packages")
    if isinstance(packages, dict):
        for key, entry in packages.items():
            if not key or "node_modules/" not in key or not isinstance(entry, dict):
                continue
            if entry.get("link"):
                continue
            name = entry.get("name") or key.rsplit("node_modules/", 1)[1]
            yield _npm(name, entry, shown, _line_of(text, f'"{key}"'))
        return
    yield from _package_lock_v1(data.get("dependencies") or {}, text, shown)


def _package_lock_v1(
    dependencies: Mapping[str, Any], text: str, shown: str
) -> Iterator[Dependency]:
    for name, entry in dependencies.items():
        if isinstance(entry, dict):
            yield _npm(name, entry, shown, _line_of(text, f'"{name}"'))
            yield from _package_lock_v1(entry.get("dependencies") or {}, text, shown)


def _npm(name: str, entry: Mapping[str, Any], shown: str, line: int) -> Dependency:
    version = entry.get("version")
    if isinstance(version, str) and re.match(r"\d+\.\d+\.\d+", version):
        return Dependency("npm", name, version, shown, line)
    return Dependency("npm", name, None, shown, line, f"not a registry version ({version})")


_LOCK_READERS = {
    "poetry.lock": _toml_lock,
    "uv.lock": _toml_lock,
    "Pipfile.lock": _pipfile_lock,
    "package-lock.json": _package_lock,
}
