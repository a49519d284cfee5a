"""astral-sh/setup-uv with the uv on this machine.

uv is not a dependency of Shipyard and may be missing here, so most tests use a stand-in: a
small script named ``uv`` that answers the three commands the action runs (``--version``,
``venv``, ``python find``) the way uv does. ``test_the_real_uv`` runs the real one when it is
installed.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shipyard.pipeline.actions import interface, setup_uv
from tests.pipeline.actions.conftest import Harness

ACTION = setup_uv.SetupUv()
STAND_IN = """#!/bin/sh
case "$1" in
  --version) echo "uv 0.5.4 (stand-in 2024-11-20)" ;;
  venv) exec {python} -m venv --without-pip "$2" ;;
  python) [ "$2" = find ] && echo "{python}" ;;
  *) echo "stand-in uv: unsupported: $*" >&2; exit 2 ;;
esac
"""


def install_stand_in(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("uv", "uvx"):
        path = directory / name
        path.write_text(STAND_IN.format(python=sys.executable))
        path.chmod(0o755)
    return directory / "uv"


@pytest.fixture
def uv(harness: Harness, tmp_path: Path) -> Path:
    """The stand-in uv, first on PATH, with a workspace that is not empty."""
    uv = install_stand_in(tmp_path / "uv-bin")
    harness.env["PATH"] = f"{uv.parent}:/usr/bin:/bin"
    (harness.workspace / "pyproject.toml").write_text('[project]\nname = "shop"\n')
    return uv


def test_uv_on_path_is_used_and_reported(harness: Harness, uv: Path) -> None:
    io = harness.run(ACTION)
    assert io.outputs == {
        "uv-path": str(uv),
        "uvx-path": str(uv.with_name("uvx")),
        "cache-hit": "false",
        "uv-version": "0.5.4",
        "python-version": platform.python_version(),
    }
    assert io.paths == [str(harness.home / ".local" / "bin"), str(uv.parent)]
    assert io.exported == {}
    assert io.warnings == []
    assert f"Using uv 0.5.4 from {uv}" in io.lines


def test_uv_in_the_installers_directory_is_found_off_path(harness: Harness) -> None:
    uv = install_stand_in(harness.home / ".local" / "bin")
    harness.env["PATH"] = "/usr/bin:/bin"
    (harness.workspace / "x").write_text("x")
    io = harness.run(ACTION)
    assert io.outputs["uv-path"] == str(uv)


def test_no_uv_fails_with_how_to_install_it(harness: Harness) -> None:
    harness.env["PATH"] = str(harness.root)
    with pytest.raises(interface.ActionFailed) as failure:
        harness.run(ACTION)
    assert failure.value.message == (
        "uv is not installed on this machine; install it with `pip install uv` "
        "(or `pipx install uv`) and run again"
    )
    assert failure.value.hint == (
        "Shipyard's built-in astral-sh/setup-uv uses the uv already installed and never "
        "downloads one; it looks on PATH, in ~/.local/bin and in ~/.cargo/bin"
    )


@pytest.mark.parametrize("version", ["0.5.4", "0.5.x", "^0.5", ">=0.4.25,<0.6", "latest"])
def test_versions_the_installed_uv_satisfies(harness: Harness, uv: Path, version: str) -> None:
    io = harness.run(ACTION, {"version": version})
    assert io.warnings == []
    assert io.outputs["uv-version"] == "0.5.4"


def test_a_different_pinned_version_warns_and_uses_the_installed_one(
    harness: Harness, uv: Path
) -> None:
    io = harness.run(ACTION, {"version": "0.4.4"})
    assert io.warnings == [
        f"uv 0.4.4 was requested (input `version`) but uv 0.5.4 is installed at {uv}; "
        "using it (for exactly 0.4.4: pip install uv==0.4.4)"
    ]
    assert io.outputs["uv-version"] == "0.5.4"


def test_a_range_the_installed_uv_is_outside_of_fails(harness: Harness, uv: Path) -> None:
    with pytest.raises(interface.ActionFailed) as failure:
        harness.run(ACTION, {"version": ">=0.6"})
    assert failure.value.message == (
        f"uv >=0.6 is required (input `version`) but uv 0.5.4 is installed at {uv}"
    )
    assert failure.value.hint == "install a matching uv (pip install 'uv>=0.6') and run again"


def test_required_version_in_pyproject_is_honoured(harness: Harness, uv: Path) -> None:
    (harness.workspace / "pyproject.toml").write_text('[tool.uv]\nrequired-version = ">=0.7"\n')
    with pytest.raises(interface.ActionFailed) as failure:
        harness.run(ACTION)
    assert failure.value.message == (
        f"uv >=0.7 is required (required-version in pyproject.toml) but uv 0.5.4 is "
        f"installed at {uv}"
    )


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("requirements.txt", "ruff==0.8\nuv==0.5.4  # pinned\n"),
        (".tool-versions", "python 3.12.1\nuv 0.5.4\n"),
        ("uv.toml", 'required-version = "==0.5.4"\n'),
    ],
)
def test_version_file(harness: Harness, uv: Path, name: str, text: str) -> None:
    (harness.workspace / name).write_text(text)
    io = harness.run(ACTION, {"version-file": name})
    assert io.warnings == []


def test_a_version_file_without_uv_fails(harness: Harness, uv: Path) -> None:
    (harness.workspace / "requirements.txt").write_text("ruff==0.8\n")
    with pytest.raises(interface.ActionFailed) as failure:
        harness.run(ACTION, {"version-file": "requirements.txt"})
    assert failure.value.message == "Could not determine uv version from file: requirements.txt"


def test_python_version_sets_uv_python(harness: Harness, uv: Path) -> None:
    io = harness.run(ACTION, {"python-version": "3.12"})
    assert io.exported == {"UV_PYTHON": "3.12"}
    assert io.outputs["python-version"] == "3.12"


def test_activate_environment_creates_and_activates_a_venv(harness: Harness, uv: Path) -> None:
    io = harness.run(ACTION, {"activate-environment": "true"})
    venv = harness.workspace / ".venv"
    assert (venv / "pyvenv.cfg").is_file()
    assert io.paths[-1] == str(venv / "bin")
    assert io.exported == {"VIRTUAL_ENV": str(venv)}
    assert io.outputs["venv"] == str(venv)


def test_tool_and_cache_directories_expand_the_tilde(harness: Harness, uv: Path) -> None:
    io = harness.run(
        ACTION,
        {"tool-bin-dir": "~/tools/bin", "tool-dir": "~/tools", "cache-local-path": "/tmp/uv-c"},
    )
    home = harness.home
    assert io.exported == {
        "UV_TOOL_BIN_DIR": f"{home}/tools/bin",
        "UV_TOOL_DIR": f"{home}/tools",
        "UV_CACHE_DIR": "/tmp/uv-c",
    }
    assert io.paths == [f"{home}/tools/bin", str(uv.parent)]


def test_uv_no_modify_path_keeps_path(harness: Harness, uv: Path) -> None:
    harness.env["UV_NO_MODIFY_PATH"] = "1"
    io = harness.run(ACTION)
    assert io.paths == []
    with pytest.raises(interface.ActionFailed) as failure:
        harness.run(ACTION, {"activate-environment": "true"})
    assert failure.value.message == (
        "UV_NO_MODIFY_PATH and activate-environment cannot be used together."
    )


def test_an_empty_working_directory_warns(harness: Harness, uv: Path) -> None:
    (harness.workspace / "pyproject.toml").unlink()
    io = harness.run(ACTION)
    assert io.warnings == [
        "Empty workdir detected. This may cause unexpected behavior. You can enable "
        "ignore-empty-workdir to mute this warning."
    ]


@pytest.mark.skipif(shutil.which("uv") is None, reason="uv is not installed")
def test_the_real_uv(harness: Harness) -> None:
    real = shutil.which("uv")
    assert real is not None
    harness.env["PATH"] = f"{Path(real).parent}:{Path(sys.executable).parent}:/usr/bin:/bin"
    (harness.workspace / "pyproject.toml").write_text('[project]\nname = "shop"\n')
    reported = subprocess.run([real, "--version"], capture_output=True, text=True, check=True)
    io = harness.run(ACTION, {"activate-environment": "true", "python-version": sys.executable})
    assert io.outputs["uv-version"] == reported.stdout.split()[1]
    assert (harness.workspace / ".venv" / "pyvenv.cfg").is_file()
    assert io.exported == {"UV_PYTHON": sys.executable, "VIRTUAL_ENV": str(io.outputs["venv"])}
