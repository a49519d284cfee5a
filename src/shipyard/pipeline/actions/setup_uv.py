"""Built-in ``astral-sh/setup-uv`` (v6 semantics), using the uv already installed here.

Finds ``uv`` on PATH, or where its installers put it (``~/.local/bin`` — the standalone
installer's and pipx's default, ``$XDG_BIN_HOME``, ``$PIPX_BIN_DIR`` — and ``~/.cargo/bin``), puts
its directory first on PATH and sets ``uv-version``, ``uv-path`` and ``uvx-path``. The wanted
version comes from ``version``, else ``version-file``, else ``required-version`` in the working
directory's ``uv.toml`` or ``pyproject.toml`` (``[tool.uv]``), else ``latest``. As nothing is
downloaded, the installed uv must do: a pinned version it is not gets a warning (the workflow
usually pins for reproducible downloads, not for a feature), a range it falls outside fails.

``python-version`` sets ``UV_PYTHON``; ``activate-environment`` runs ``uv venv`` (at
``venv-path``, default ``.venv`` in the working directory), puts its ``bin`` on PATH and sets
``VIRTUAL_ENV``; ``tool-dir``, ``tool-bin-dir`` and ``cache-local-path`` set ``UV_TOOL_DIR``,
``UV_TOOL_BIN_DIR`` and ``UV_CACHE_DIR``; ``UV_NO_MODIFY_PATH`` keeps PATH as it is.

Deviations: ``enable-cache`` uploads nothing (uv's cache on this machine persists between runs
anyway) and ``cache-hit`` is ``false``; ``UV_CACHE_DIR`` is only set when ``cache-local-path`` is
given and ``UV_PYTHON_INSTALL_DIR`` is never set, so the uv cache and the Pythons uv manages on
this machine stay in use; ``checksum``, ``github-token`` and ``manifest-file`` have nothing to do
offline. uv runs here with ``UV_OFFLINE=1`` and ``UV_PYTHON_DOWNLOADS=never``: this action never
touches the network and never installs uv.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

from shipyard.core.frozen import frozen
from shipyard.pipeline.actions import _inputs, _process, _versions, interface

_REQUIREMENT = re.compile(
    r"uv\s*(?P<spec>(?:[=<>!~^]=?|===)\s*[^\s;#]+(?:\s*,\s*[<>=!~]=?\s*[^\s,;#]+)*)"
)
_OFFLINE = {"UV_OFFLINE": "1", "UV_PYTHON_DOWNLOADS": "never", "NO_COLOR": "1"}


@frozen
class WantedVersion:
    """The uv version the workflow asks for, and where that came from."""

    text: str
    source: str


class SetupUv:
    """``astral-sh/setup-uv``: the machine's uv, first on PATH, checked against the request."""

    names: tuple[str, ...] = ("astral-sh/setup-uv",)

    async def run(self, call: interface.ActionCall, io: interface.ActionIO) -> None:
        working = call.workspace / call.input("working-directory", ".")
        _warn_if_empty(call, io, working)
        uv = find_uv(call.env)
        if uv is None:
            raise interface.ActionFailed(
                "uv is not installed on this machine; install it with `pip install uv` "
                "(or `pipx install uv`) and run again",
                hint="Shipyard's built-in astral-sh/setup-uv uses the uv already installed and "
                "never downloads one; it looks on PATH, in ~/.local/bin and in ~/.cargo/bin",
            )
        version = await _installed_version(io, call, uv)
        _check(wanted_version(call, working), version, uv, io)
        modify_path = "UV_NO_MODIFY_PATH" not in call.env
        _tool_directories(call, io, modify_path)
        if modify_path:
            io.add_path(str(uv.parent))
            io.log(f"Added {uv.parent} to the path")
        else:
            io.log("UV_NO_MODIFY_PATH is set, not modifying PATH")
        io.set_output("uv-path", str(uv))
        uvx = uv.with_name("uvx")
        io.set_output("uvx-path", str(uvx) if os.access(uvx, os.X_OK) else "")
        python = call.input("python-version")
        if python:
            io.export_env("UV_PYTHON", python)
            io.log(f"Set UV_PYTHON to {python}")
        if _inputs.boolean(call, "activate-environment", False):
            await _activate(call, io, uv, working, python=python, modify_path=modify_path)
        _cache(call, io)
        io.set_output("uv-version", str(version))
        io.log(f"Using uv {version} from {uv}")
        io.set_output("python-version", python or await _python_version(call, io, uv, working))


def find_uv(env: Mapping[str, str]) -> Path | None:
    """The uv executable: on PATH first, then where uv's installers and pipx put it."""
    home = _process.home(env)
    places = _process.search_path(env)
    places += [Path(env[name]) for name in ("XDG_BIN_HOME", "PIPX_BIN_DIR") if env.get(name)]
    places += [home / ".local" / "bin", home / ".cargo" / "bin"]
    for directory in places:
        candidate = directory / "uv"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def wanted_version(call: interface.ActionCall, working: Path) -> WantedVersion:
    """``version``, else ``version-file``, else ``required-version`` in the config files."""
    version = call.input("version").strip()
    if version:
        return WantedVersion(version, "input `version`")
    file = call.input("version-file").strip()
    if file:
        path = working / file
        found = _version_from_file(path) if path.is_file() else None
        if found is None:
            raise interface.ActionFailed(f"Could not determine uv version from file: {file}")
        return WantedVersion(found, file)
    for name in ("uv.toml", "pyproject.toml"):
        path = working / name
        found = _version_from_file(path) if path.is_file() else None
        if found is not None:
            return WantedVersion(found, f"required-version in {name}")
    return WantedVersion("latest", "default")


def _version_from_file(path: Path) -> str | None:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".toml":
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise interface.ActionFailed(f"{path.name} is not valid TOML: {error}") from None
        table = document if path.name == "uv.toml" else document.get("tool", {}).get("uv", {})
        value = table.get("required-version")
        return value if isinstance(value, str) and value.strip() else None
    if path.name == ".tool-versions":
        for line in text.splitlines():
            words = line.split("#", 1)[0].split()
            if len(words) >= 2 and words[0] == "uv":
                return words[1]
        return None
    for line in text.splitlines():  # a requirements file: uv==0.5.4, uv>=0.5,<0.6
        match = _REQUIREMENT.fullmatch(line.split("#", 1)[0].strip())
        if match:
            return match["spec"].replace(" ", "")
    return None


def _check(
    wanted: WantedVersion, installed: _versions.Version, uv: Path, io: interface.ActionIO
) -> None:
    if wanted.text == "latest":
        return
    try:
        spec = _versions.VersionSpec.parse(wanted.text)
    except _versions.VersionError as error:
        raise interface.ActionFailed(
            f"uv version {wanted.text!r} ({wanted.source}): {error}"
        ) from None
    if spec.matches(installed):
        return
    if spec.exact is not None:
        io.warning(
            f"uv {wanted.text} was requested ({wanted.source}) but uv {installed} is installed "
            f"at {uv}; using it (for exactly {wanted.text}: pip install uv=={wanted.text})"
        )
        return
    raise interface.ActionFailed(
        f"uv {wanted.text} is required ({wanted.source}) but uv {installed} is installed at {uv}",
        hint=f"install a matching uv (pip install 'uv{_pip_spec(wanted.text)}') and run again",
    )


def _pip_spec(text: str) -> str:
    return text if text[:1] in "<>=!~" else f"=={text}"


async def _installed_version(
    io: interface.ActionIO, call: interface.ActionCall, uv: Path
) -> _versions.Version:
    result = await _process.output_of(
        io,
        [str(uv), "--version"],
        cwd=call.workspace,
        scratch=call.temp / "setup-uv",
        env=_process.environment(call.env, extra=_OFFLINE),
    )
    words = result.stdout.split()
    try:
        if not result.ok or len(words) < 2:
            raise _versions.VersionError(result.stdout.strip())
        return _versions.Version.parse(words[1])
    except _versions.VersionError:
        raise interface.ActionFailed(
            f"`{uv} --version` did not report a version (exit status {result.status}: "
            f"{result.stdout.strip()!r})",
            hint="reinstall uv: pip install --force-reinstall uv",
        ) from None


def _tool_directories(
    call: interface.ActionCall, io: interface.ActionIO, modify_path: bool
) -> None:
    home = _process.home(call.env)
    tool_bin = call.input("tool-bin-dir")
    if tool_bin:
        expanded = _expand(tool_bin, home)
        io.export_env("UV_TOOL_BIN_DIR", expanded)
        io.log(f"Set UV_TOOL_BIN_DIR to {expanded}")
        bin_directory = expanded
    elif call.env.get("XDG_BIN_HOME"):
        bin_directory = call.env["XDG_BIN_HOME"]
    elif call.env.get("XDG_DATA_HOME"):
        bin_directory = f"{call.env['XDG_DATA_HOME']}/../bin"
    else:
        bin_directory = str(home / ".local" / "bin")
    if modify_path:
        io.add_path(bin_directory)
        io.log(f"Added {bin_directory} to the path")
    tool_dir = call.input("tool-dir")
    if tool_dir:
        expanded = _expand(tool_dir, home)
        io.export_env("UV_TOOL_DIR", expanded)
        io.log(f"Set UV_TOOL_DIR to {expanded}")


async def _activate(
    call: interface.ActionCall,
    io: interface.ActionIO,
    uv: Path,
    working: Path,
    *,
    python: str,
    modify_path: bool,
) -> None:
    if not modify_path:
        raise interface.ActionFailed(
            "UV_NO_MODIFY_PATH and activate-environment cannot be used together."
        )
    given = call.input("venv-path")
    venv = working / _expand(given, _process.home(call.env)) if given else working / ".venv"
    io.log(f"Activating python venv at {venv}...")
    extra = {**_OFFLINE, "UV_PYTHON": python} if python else _OFFLINE
    status = await io.run_command(
        [str(uv), "venv", str(venv)], cwd=working, env=_process.environment(call.env, extra=extra)
    )
    if status != 0:
        raise interface.ActionFailed(
            f"`uv venv {venv}` failed with exit status {status}",
            hint="the output above says why; a Python uv can use must be installed here "
            "(uv python install 3.12)",
        )
    io.add_path(str(venv / "bin"))
    io.export_env("VIRTUAL_ENV", str(venv))
    io.set_output("venv", str(venv))


async def _python_version(
    call: interface.ActionCall, io: interface.ActionIO, uv: Path, working: Path
) -> str:
    """The Python uv would use here (``uv python find``), or ``unknown``."""
    scratch = call.temp / "setup-uv"
    env = _process.environment(call.env, extra=_OFFLINE)
    found = await _process.output_of(
        io, [str(uv), "python", "find"], cwd=working, scratch=scratch, env=env
    )
    interpreter = found.stdout.strip()
    if not found.ok or not interpreter:
        return "unknown"
    reported = await _process.output_of(
        io, [interpreter, "--version"], cwd=working, scratch=scratch, env=env
    )
    words = reported.stdout.split()
    return words[1] if reported.ok and len(words) == 2 else "unknown"


def _cache(call: interface.ActionCall, io: interface.ActionIO) -> None:
    local = call.input("cache-local-path")
    if local:
        expanded = _expand(local, _process.home(call.env))
        io.export_env("UV_CACHE_DIR", expanded)
        io.log(f"Set UV_CACHE_DIR to {expanded}")
    if call.input("enable-cache", "auto").lower() == "true":
        io.log(
            "enable-cache: uv's cache on this machine persists between runs; Shipyard does not "
            "upload it anywhere"
        )
    io.set_output("cache-hit", "false")


def _warn_if_empty(call: interface.ActionCall, io: interface.ActionIO, working: Path) -> None:
    if working.is_dir() and any(working.iterdir()):
        return
    if _inputs.boolean(call, "ignore-empty-workdir", False):
        io.log("Empty workdir detected. Ignoring because ignore-empty-workdir is enabled")
    else:
        io.warning(
            "Empty workdir detected. This may cause unexpected behavior. You can enable "
            "ignore-empty-workdir to mute this warning."
        )


def _expand(path: str, home: Path) -> str:
    return str(home) + path[1:] if path == "~" or path.startswith("~/") else path
