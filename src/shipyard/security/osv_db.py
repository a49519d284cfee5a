"""The offline OSV database: a directory or a zip of OSV records, indexed by package.

Records may be JSON (OSV's own exports: one zip per ecosystem) or YAML (advisory repositories
such as PyPI's), in any directory layout. YAML timestamps stay plain strings. A record that
cannot be read is named in ``problems`` and skipped; the rest of the database still works.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from shipyard.core import errors
from shipyard.security import osv_match

DATABASE_VARIABLE = "SHIPYARD_OSV_DB"
_SUFFIXES = (".json", ".yaml", ".yml")
_SEPARATORS = re.compile(r"[-_.]+")


class _PlainLoader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """YAML without the timestamp resolver: dates stay the strings the record wrote."""


_PlainLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(slots=True)
class Database:
    """OSV records by (ecosystem, normalized package name)."""

    source: str
    """Where the records came from: a directory, a zip or an API's URL."""
    by_package: dict[tuple[str, str], list[Mapping[str, Any]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    records: int = 0
    withdrawn: int = 0
    problems: list[str] = field(default_factory=list)
    ecosystems: set[str] = field(default_factory=set)
    """Every ecosystem the database has records for (read or not: see ``load``'s ``names``)."""

    def advisories(self, ecosystem: str, name: str) -> list[Mapping[str, Any]]:
        return self.by_package.get((ecosystem, osv_match.normalize_name(ecosystem, name)), [])

    def add(self, record: Mapping[str, Any]) -> None:
        self.records += 1
        if record.get("withdrawn"):
            self.withdrawn += 1
            return
        keys: set[tuple[str, str]] = set()
        for entry in record.get("affected") or ():
            package = entry.get("package") or {}
            ecosystem = str(package.get("ecosystem", "")).split(":", 1)[0]
            name = str(package.get("name", ""))
            if ecosystem and name:
                keys.add((ecosystem, osv_match.normalize_name(ecosystem, name)))
        for key in keys:
            self.by_package[key].append(record)


def load(source: Path, names: Iterable[str] | None = None) -> Database:
    """Read every record under a directory, or in a zip file.

    With ``names``, records that cannot concern any of those packages (no ``name:`` in them names
    one, in any spelling PEP 503 treats as the same) are not parsed: a scan of one project reads
    a large database quickly.
    """
    wanted = _name_pattern(names) if names is not None else None
    if not source.exists():
        raise errors.UsageError(
            f"the OSV database {source} does not exist",
            hint="run `shipyard scan db update`, or name a directory or zip of OSV records "
            f"with --osv-db or ${DATABASE_VARIABLE}",
        )
    database = Database(str(source))
    for name, data in _documents(source):
        database.ecosystems.update(_ecosystems(data))
        if wanted is not None and not wanted.search(data):
            continue
        try:
            record = _parse(name, data)
        except (ValueError, yaml.YAMLError) as error:
            database.problems.append(f"{name}: {str(error).splitlines()[0]}")
            continue
        if isinstance(record, dict) and "id" in record:
            database.add(record)
        else:
            database.problems.append(f"{name}: not an OSV record")
    return database


def _name_pattern(names: Iterable[str]) -> re.Pattern[bytes]:
    """Matches a record's ``name`` key holding one of ``names`` (JSON or YAML, any separators)."""
    spellings = sorted(
        {
            b"[-_.]+".join(re.escape(part.encode()) for part in _SEPARATORS.split(name.lower()))
            for name in names
            if name
        },
        key=len,
        reverse=True,
    )
    alternatives = b"|".join(spellings) or b"(?!)"
    return re.compile(
        rb"name[\"']?\s*:\s*[\"']?(?:" + alternatives + rb")(?=[\"'\s,}]|\Z)", re.IGNORECASE
    )


_ECOSYSTEM = re.compile(rb'"?ecosystem"?\s*:\s*"?([A-Za-z][A-Za-z.]*)')


def _ecosystems(data: bytes) -> set[str]:
    """The ecosystems a record names, found without parsing it (OSV exports: one per zip)."""
    return {found.decode() for found in _ECOSYSTEM.findall(data)}


def _parse(name: str, data: bytes) -> Any:
    if name.endswith(".json"):
        return json.loads(data)
    return yaml.load(data, Loader=_PlainLoader)


def _documents(source: Path) -> Iterator[tuple[str, bytes]]:
    if source.is_file():
        try:
            with zipfile.ZipFile(source) as archive:
                for info in archive.infolist():
                    if info.filename.endswith(_SUFFIXES) and not info.is_dir():
                        yield info.filename, archive.read(info)
        except (zipfile.BadZipFile, OSError) as error:
            raise errors.UsageError(
                f"cannot read the OSV database {source}: {error}",
                hint="name a directory of OSV records or a zip of them (as OSV exports them)",
            ) from error
        return
    for directory, subdirectories, names in os.walk(source):
        subdirectories.sort()
        for name in sorted(names):
            if name.endswith(_SUFFIXES):
                path = Path(directory) / name
                try:
                    yield str(path.relative_to(source)), path.read_bytes()
                except OSError:
                    continue
        for zipped in sorted(n for n in names if n.endswith(".zip")):
            yield from _documents(Path(directory) / zipped)


def default_location(home: Path) -> Path:
    """Where ``shipyard scan db update`` keeps the database: ``$SHIPYARD_HOME/osv``."""
    return home / "osv"
