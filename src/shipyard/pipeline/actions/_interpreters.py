"""The Python interpreters installed on this machine: where they are and what each one is.

Candidates come from, in this order: ``PATH`` (``python3.X``, ``python3``, ``python``, and the
``pypy``/``graalpy`` equivalents), pyenv (``$PYENV_ROOT/versions/*/bin``, default
``~/.pyenv``), uv's managed Pythons (``uv python list --only-installed`` when uv is on ``PATH``,
and uv's install directory either way), then the system directories (``/usr/local/bin``,
``/usr/bin``). Shims are skipped — a directory named ``shims`` or an executable that is a script
(pyenv's and asdf's run whichever version is selected at that moment) — and so are virtual
environments.

Each candidate is probed once for its exact version, implementation and prefix. Probes are
cached in the tool cache, keyed by the real path, size and modification time, so later jobs only
``stat`` the files. This module never creates environments and never decides which interpreter
a workflow gets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from shipyard.core.frozen import frozen
from shipyard.pipeline.actions import _process, _versions, interface

SYSTEM_DIRECTORIES = (Path("/usr/local/bin"), Path("/usr/bin"))
_NAMES = re.compile(r"(python|pypy|graalpy)(\d+(\.\d+)?t?)?")
_CACHE_FORMAT = 1
_PARALLEL_PROBES = 4
# Runs under the candidate itself, so it must stay valid Python 2 and 3 (2.7 is still listed).
PROBE = """
import json, platform, sys
try:
    import sysconfig
    freethreaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
except Exception:
    freethreaded = False
try:
    import importlib.util
    ensurepip = bool(importlib.util.find_spec("ensurepip") and importlib.util.find_spec("venv"))
except Exception:
    ensurepip = False
implementation = getattr(sys, "implementation", None)
pypy = getattr(sys, "pypy_version_info", None)
print(json.dumps({
    "implementation": implementation.name if implementation else "cpython",
    "version": platform.python_version(),
    "implementation_version": ".".join(str(part) for part in pypy[:3]) if pypy else "",
    "prefix": sys.prefix,
    "base_prefix": getattr(sys, "base_prefix", sys.prefix),
    "freethreaded": freethreaded,
    "machine": platform.machine(),
    "ensurepip": ensurepip,
}))
"""


@frozen
class Interpreter:
    """One installed interpreter, as its probe described it."""

    path: Path
    """The executable's real path (symbolic links resolved)."""
    source: str
    """Where it was found: ``PATH``, ``pyenv``, ``uv`` or ``system``."""
    implementation: str
    version: _versions.Version
    implementation_version: str
    """PyPy's or GraalPy's own version (``7.3.15``); empty for CPython."""
    prefix: Path
    freethreaded: bool
    machine: str
    has_ensurepip: bool

    @property
    def label(self) -> str:
        """``3.12.1``, ``3.13.1t``, ``pypy3.10.14 (7.3.17)``."""
        if self.implementation == "cpython":
            return f"{self.version}{'t' if self.freethreaded else ''}"
        return f"{self.implementation}{self.version} ({self.implementation_version})"


@frozen
class Locations:
    """Where to look besides ``PATH``, pyenv and uv: the system's own directories."""

    system: tuple[Path, ...] = SYSTEM_DIRECTORIES


@frozen
class _Candidate:
    path: Path
    source: str


async def discover(
    io: interface.ActionIO, call: interface.ActionCall, locations: Locations
) -> list[Interpreter]:
    """Every usable interpreter on this machine, in search order (duplicates removed)."""
    listed = await _uv_pythons(io, call)
    candidates = _unique(_candidates(call.env, locations, listed))
    cache_file = call.tool_cache / "setup-python" / "interpreters.json"
    cache = _read_cache(cache_file)
    keys = {candidate.path: _cache_key(candidate.path) for candidate in candidates}
    stale = [path for path, key in keys.items() if cache.get(str(path), {}).get("key") != key]
    if stale:
        limit = asyncio.Semaphore(_PARALLEL_PROBES)
        probes = await asyncio.gather(*(_probe(io, call, path, limit) for path in stale))
        for path, probe in zip(stale, probes, strict=True):
            cache[str(path)] = {"key": keys[path], "probe": probe}
        _write_cache(cache_file, cache)
    found = []
    for candidate in candidates:
        interpreter = _from_probe(candidate, cache[str(candidate.path)]["probe"])
        if interpreter is not None:
            found.append(interpreter)
    return found


def _candidates(
    env: Mapping[str, str], locations: Locations, uv_listed: Iterable[Path]
) -> Iterable[_Candidate]:
    listed: set[str] = set()  # real paths of directories already read (/bin is /usr/bin here)

    def directory(path: Path, source: str) -> Iterable[_Candidate]:
        real = os.path.realpath(path)
        if real not in listed:
            listed.add(real)
            yield from _in_directory(path, source)

    for entry in _process.search_path(env):
        if entry.name != "shims":
            yield from directory(entry, "PATH")
    home = _process.home(env)
    pyenv_root = Path(env.get("PYENV_ROOT") or home / ".pyenv")
    for version in _sorted_entries(pyenv_root / "versions"):
        yield from directory(version / "bin", "pyenv")
    for path in uv_listed:
        if path.parent.name != "shims" and path.is_file() and not _is_script(path):
            yield _Candidate(path, "uv")
    data_home = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
    uv_root = Path(env.get("UV_PYTHON_INSTALL_DIR") or data_home / "uv" / "python")
    for installation in _sorted_entries(uv_root):
        yield from directory(installation / "bin", "uv")
    for system in locations.system:
        yield from directory(system, "system")


def _in_directory(directory: Path, source: str) -> Iterable[_Candidate]:
    for name in _sorted_names(directory):
        if _NAMES.fullmatch(name):
            path = directory / name
            if os.access(path, os.X_OK) and path.is_file() and not _is_script(path):
                yield _Candidate(path, source)


def _unique(candidates: Iterable[_Candidate]) -> list[_Candidate]:
    seen: set[Path] = set()
    result = []
    for candidate in candidates:
        real = Path(os.path.realpath(candidate.path))
        if real not in seen:
            seen.add(real)
            result.append(_Candidate(real, candidate.source))
    return result


def _sorted_names(directory: Path) -> list[str]:
    try:
        return sorted(os.listdir(directory))
    except OSError:
        return []


def _sorted_entries(directory: Path) -> list[Path]:
    return [directory / name for name in _sorted_names(directory)]


def _is_script(path: Path) -> bool:
    """A wrapper script (a shim), not an interpreter binary."""
    try:
        with open(path, "rb") as handle:
            return handle.read(2) == b"#!"
    except OSError:
        return True


async def _uv_pythons(io: interface.ActionIO, call: interface.ActionCall) -> list[Path]:
    """The Pythons uv knows to be installed, when uv is on PATH."""
    directories = [path for path in _process.search_path(call.env) if path.name != "shims"]
    uv = next((path / "uv" for path in directories if os.access(path / "uv", os.X_OK)), None)
    if uv is None:
        return []
    env = _process.environment(
        call.env,
        extra={
            "PATH": os.pathsep.join(str(path) for path in directories),
            "UV_OFFLINE": "1",
            "UV_PYTHON_DOWNLOADS": "never",
            "NO_COLOR": "1",
        },
    )
    result = await _process.output_of(
        io,
        [str(uv), "python", "list", "--only-installed", "--output-format", "json"],
        cwd=call.workspace,
        scratch=call.temp / "setup-python",
        env=env,
    )
    try:
        listed = json.loads(result.stdout) if result.ok else []
    except json.JSONDecodeError:
        return []
    return [Path(entry["path"]) for entry in listed if isinstance(entry.get("path"), str)]


async def _probe(
    io: interface.ActionIO, call: interface.ActionCall, path: Path, limit: asyncio.Semaphore
) -> dict[str, Any] | None:
    clean = _process.environment(call.env, drop_prefixes=("PYTHON", "PIP_"), drop=("VIRTUAL_ENV",))
    async with limit:
        result = await _process.output_of(
            io,
            [str(path), "-E", "-s", "-c", PROBE],
            cwd=call.workspace,
            scratch=call.temp / "setup-python",
            env=clean,
        )
    if not result.ok:
        return None
    try:
        probe: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        return None
    return probe


def _from_probe(candidate: _Candidate, probe: Mapping[str, Any] | None) -> Interpreter | None:
    if probe is None or probe["prefix"] != probe["base_prefix"]:
        return None  # not an interpreter, or a virtual environment
    try:
        version = _versions.Version.parse(probe["version"])
    except _versions.VersionError:
        return None
    return Interpreter(
        path=candidate.path,
        source=candidate.source,
        implementation=probe["implementation"],
        version=version,
        implementation_version=probe["implementation_version"],
        prefix=Path(probe["prefix"]),
        freethreaded=bool(probe["freethreaded"]),
        machine=probe["machine"],
        has_ensurepip=bool(probe["ensurepip"]),
    )


def _cache_key(path: Path) -> list[int]:
    try:
        status = path.stat()
    except OSError:
        return [0, 0]
    return [status.st_size, status.st_mtime_ns]


def _read_cache(file: Path) -> dict[str, Any]:
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    if not isinstance(document, dict) or document.get("format") != _CACHE_FORMAT:
        return {}
    entries: dict[str, Any] = document.get("interpreters", {})
    return entries


def _write_cache(file: Path, entries: Mapping[str, Any]) -> None:
    """Replace the cache file in one step; concurrent jobs at worst probe again."""
    file.parent.mkdir(parents=True, exist_ok=True)
    temporary = file.with_name(f".{file.name}.{uuid.uuid4().hex}")
    document = {"format": _CACHE_FORMAT, "interpreters": dict(entries)}
    try:
        temporary.write_text(json.dumps(document, indent=1, sort_keys=True), encoding="utf-8")
        temporary.replace(file)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
