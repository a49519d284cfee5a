"""Built-in ``actions/setup-python`` (v5 semantics), served by the interpreters on this machine.

Resolves ``python-version`` (one or several lines: ``3.12``, ``3.12.3``, ``3.x``, ``>=3.11
<3.13``, ``3.13-dev``, ``3.13t``, ``pypy3.10``, ``graalpy-24.1``) or ``python-version-file``
(``.python-version``, ``.tool-versions``, ``pyproject.toml``'s ``requires-python`` or Poetry's
``python``, a ``Pipfile``; ``.python-version`` by default) against the interpreters installed
here (see ``_interpreters``) and picks the highest matching version. ``architecture``,
``allow-prereleases``, ``freethreaded`` and ``update-environment`` behave as documented upstream.

Deviation: instead of putting the interpreter itself on PATH, it puts a virtual environment of
it there (see ``_venvs``), so ``python -m pip install ...`` in the workflow never touches an
interpreter that belongs to the machine. ``pythonLocation``, ``Python_ROOT_DIR``,
``Python2_ROOT_DIR`` and ``Python3_ROOT_DIR`` name that environment; ``PKG_CONFIG_PATH`` names
the interpreter's own ``lib/pkgconfig``. ``cache``, ``check-latest`` and ``token`` are accepted
and have nothing to do offline. Nothing is downloaded: a version that is not installed fails,
naming the versions that are and how to add one.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from shipyard.core.frozen import frozen
from shipyard.pipeline.actions import _inputs, _interpreters, _venvs, _versions, interface

_PYPY = re.compile(r"pypy-?(?P<python>[^-\s]*)(?:-v?(?P<pypy>\S+))?")
_GRAALPY = re.compile(r"graalpy-?(?P<graalpy>\S*)")
_MACHINES = {
    "x86_64": "x64",
    "amd64": "x64",
    "i386": "x86",
    "i686": "x86",
    "x86": "x86",
    "aarch64": "arm64",
    "arm64": "arm64",
    "armv7l": "arm",
}
_SYSTEM_PREFIXES = (Path("/usr"), Path("/usr/local"))


@frozen
class PythonRequest:
    """One line of ``python-version``: an implementation and the versions it accepts."""

    text: str
    implementation: str
    versions: _versions.VersionSpec
    """The language version (``3.12``); for GraalPy, GraalPy's own version."""
    implementation_versions: _versions.VersionSpec | None = None
    freethreaded: bool = False

    @classmethod
    def parse(cls, text: str, *, allow_prereleases: bool, freethreaded: bool) -> PythonRequest:
        """Parse one version line; raise ``ActionFailed`` for one that means nothing."""
        try:
            if pypy := _PYPY.fullmatch(text):
                python = pypy["python"] or "3"
                build = pypy["pypy"]
                if build == "nightly":
                    raise _versions.VersionError("PyPy nightly builds are not installed locally")
                return cls(
                    text,
                    "pypy",
                    _versions.VersionSpec.parse(python if python != "3" else "3.x"),
                    _versions.VersionSpec.parse(build) if build else None,
                )
            if graalpy := _GRAALPY.fullmatch(text):
                return cls(text, "graalpy", _versions.VersionSpec.parse(graalpy["graalpy"]))
            spec = text
            if spec.endswith("t"):
                spec, freethreaded = spec[:-1], True
            if allow_prereleases and re.fullmatch(r"\d+\.\d+", spec):
                spec += "-dev"
            return cls(text, "cpython", _versions.VersionSpec.parse(spec), None, freethreaded)
        except _versions.VersionError as error:
            raise interface.ActionFailed(
                f"python-version {text!r} is not a version or a version range ({error})",
                hint="examples: 3.12, 3.12.3, 3.x, >=3.11 <3.13, 3.13t, pypy3.10",
            ) from None

    def accepts(self, interpreter: _interpreters.Interpreter) -> bool:
        if interpreter.implementation != self.implementation:
            return False
        if self.implementation == "graalpy":
            return _matches(self.versions, interpreter.implementation_version)
        if self.implementation == "cpython" and interpreter.freethreaded != self.freethreaded:
            return False
        if not self.versions.matches(interpreter.version):
            return False
        return self.implementation_versions is None or _matches(
            self.implementation_versions, interpreter.implementation_version
        )


@dataclass
class SetupPython:
    """``actions/setup-python``: a venv of a matching local interpreter, first on PATH."""

    locations: _interpreters.Locations = field(default_factory=_interpreters.Locations)
    names: tuple[str, ...] = ("actions/setup-python",)

    async def run(self, call: interface.ActionCall, io: interface.ActionIO) -> None:
        lines = version_lines(call, io)
        if not lines:
            io.warning(
                "The `python-version` input is not set.  The version of Python currently in "
                "`PATH` will be used."
            )
            return
        allow_prereleases = _inputs.boolean(call, "allow-prereleases", False)
        freethreaded = _inputs.boolean(call, "freethreaded", False)
        requests = [
            PythonRequest.parse(
                line, allow_prereleases=allow_prereleases, freethreaded=freethreaded
            )
            for line in lines
        ]
        _explain_offline_inputs(call, io)
        found = await _interpreters.discover(io, call, self.locations)
        architecture = call.input("architecture")
        chosen = [choose(request, found, architecture) for request in requests]
        update_environment = _inputs.boolean(call, "update-environment", True)
        environments = []
        for interpreter in chosen:
            environment = await _venvs.environment_for(io, call, interpreter)
            environments.append(environment)
            if update_environment:
                _update_environment(call, io, interpreter, environment)
            io.log(
                f"Successfully set up {_display(interpreter)} ({interpreter.path}) in a virtual "
                f"environment at {environment}"
            )
        io.set_output("python-version", _output_version(chosen[-1]))
        io.set_output("python-path", str(environments[-1] / "bin" / "python"))
        io.set_output("cache-hit", "false")


def version_lines(call: interface.ActionCall, io: interface.ActionIO) -> list[str]:
    """The requested versions, from the input or a version file (setup-python's order)."""
    lines = _inputs.lines(call, "python-version")
    file = call.input("python-version-file")
    if lines:
        if file:
            io.warning(
                "Both python-version and python-version-file inputs are specified, only "
                "python-version will be used."
            )
        return lines
    if file:
        path = call.workspace / file
        if not path.is_file():
            raise interface.ActionFailed(
                f"The specified python version file at: {file} doesn't exist."
            )
        return versions_from_file(path, io)
    io.log(
        "[warning]Neither 'python-version' nor 'python-version-file' inputs were supplied. "
        "Attempting to find '.python-version' file."
    )
    default = call.workspace / ".python-version"
    if default.is_file():
        return versions_from_file(default, io)
    io.log("[warning].python-version doesn't exist.")
    return []


def versions_from_file(path: Path, io: interface.ActionIO) -> list[str]:
    """Versions from ``.python-version``, ``.tool-versions``, a TOML file or a Pipfile."""
    text = path.read_text(encoding="utf-8")
    if path.name == ".tool-versions":
        versions = _tool_versions(text)
    elif path.suffix == ".toml" or path.name == "Pipfile":
        versions = _toml_versions(path, text)
    else:
        versions = [
            line.strip()
            for line in text.splitlines()
            if line.strip() and not line.strip().startswith("#")
        ]
    io.log(f"Resolved {path.name} as {', '.join(versions) or 'nothing'}")
    return versions


def choose(
    request: PythonRequest, found: Sequence[_interpreters.Interpreter], architecture: str
) -> _interpreters.Interpreter:
    """The highest interpreter the request accepts; ``ActionFailed`` naming the others."""
    wanted_machine = architecture.lower()
    matching = [
        (index, interpreter)
        for index, interpreter in enumerate(found)
        if request.accepts(interpreter)
        and (not wanted_machine or _MACHINES.get(interpreter.machine.lower()) == wanted_machine)
    ]
    if matching:
        _, best = max(
            matching,
            key=lambda pair: (
                pair[1].version,
                pair[1].implementation_version,
                pair[1].has_ensurepip,
                -pair[0],
            ),
        )
        return best
    raise _not_found(request, found, architecture)


def _not_found(
    request: PythonRequest, found: Sequence[_interpreters.Interpreter], architecture: str
) -> interface.ActionFailed:
    wanted = f"{request.text} ({architecture})" if architecture else request.text
    if found:
        listed = ", ".join(
            f"{interpreter.label} ({interpreter.path}, {interpreter.source})"
            for interpreter in found
        )
        available = f"available: {listed}"
    else:
        available = (
            "no Python interpreter was found on PATH, in pyenv, among uv's Pythons or in "
            "/usr/local/bin and /usr/bin"
        )
    example = _install_example(request)
    return interface.ActionFailed(
        f"Python {wanted} is not installed on this machine; {available}",
        hint=f"install it (`uv python install {example}` or `pyenv install {example}`) and run "
        "again, or ask for an available version",
    )


def _install_example(request: PythonRequest) -> str:
    text = request.versions.text
    if not re.fullmatch(r"\d+(\.\d+){0,2}", text):
        text = "<version>"
    if request.implementation == "pypy":
        return f"pypy@{text}" if text != "<version>" else "pypy"
    return text


def _update_environment(
    call: interface.ActionCall,
    io: interface.ActionIO,
    interpreter: _interpreters.Interpreter,
    environment: Path,
) -> None:
    location = str(environment)
    io.export_env("pythonLocation", location)
    io.export_env("PKG_CONFIG_PATH", str(interpreter.prefix / "lib" / "pkgconfig"))
    io.export_env("Python_ROOT_DIR", location)
    io.export_env("Python2_ROOT_DIR", location)
    io.export_env("Python3_ROOT_DIR", location)
    library = interpreter.prefix / "lib"
    current = call.env.get("LD_LIBRARY_PATH", "")
    if interpreter.prefix not in _SYSTEM_PREFIXES and str(library) not in current.split(os.pathsep):
        io.export_env(
            "LD_LIBRARY_PATH", f"{library}{os.pathsep}{current}" if current else str(library)
        )
    io.add_path(str(environment / "bin"))


def _explain_offline_inputs(call: interface.ActionCall, io: interface.ActionIO) -> None:
    cache = call.input("cache")
    if cache:
        io.log(
            f"cache: {cache}: caching dependencies belongs to actions/cache; on this machine "
            f"{cache}'s own cache persists between runs anyway"
        )
    if _inputs.boolean(call, "check-latest", False):
        io.log(
            "check-latest: nothing is downloaded offline; the newest matching local version is used"
        )


def _matches(spec: _versions.VersionSpec, text: str) -> bool:
    try:
        return spec.matches(_versions.Version.parse(text))
    except _versions.VersionError:
        return False


def _display(interpreter: _interpreters.Interpreter) -> str:
    names = {"cpython": "CPython", "pypy": "PyPy", "graalpy": "GraalPy"}
    return (
        f"{names.get(interpreter.implementation, interpreter.implementation)} {interpreter.label}"
    )


def _output_version(interpreter: _interpreters.Interpreter) -> str:
    """The ``python-version`` output: ``3.12.1``, or ``pypy7.3.17`` as setup-python sets it."""
    if interpreter.implementation == "cpython":
        return str(interpreter.version)
    return f"{interpreter.implementation}{interpreter.implementation_version}"


def _tool_versions(text: str) -> list[str]:
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 2 and words[0] == "python":
            return [words[1]]
    return []


def _toml_versions(path: Path, text: str) -> list[str]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise interface.ActionFailed(f"{path.name} is not valid TOML: {error}") from None
    if path.name == "Pipfile":
        requires = document.get("requires", {})
        version = requires.get("python_full_version") or requires.get("python_version")
    elif "project" in document:
        version = document["project"].get("requires-python")
    else:
        version = document.get("tool", {}).get("poetry", {}).get("dependencies", {}).get("python")
    if not isinstance(version, str) or not version.strip():
        return []
    return [" ".join(part.strip() for part in version.split(","))]
