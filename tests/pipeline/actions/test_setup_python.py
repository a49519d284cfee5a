"""actions/setup-python with the real CPython 3.11 and 3.12 installed here through pyenv.

Discovery is pointed at a pyenv root that links to exactly those two versions (and at no system
directory), so the interpreters a test sees do not depend on what else the machine has.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from shipyard.pipeline.actions import _interpreters, _venvs, interface, setup_python
from tests.pipeline.actions.conftest import Harness, RecordingIO

PYENV_VERSIONS = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"


def installed(minor: str) -> Path | None:
    """The real pyenv version directory for ``3.<minor>`` (the newest), if any."""
    candidates = sorted(PYENV_VERSIONS.glob(f"3.{minor}.*"), key=lambda p: p.name)
    usable = [path for path in candidates if (path / "bin" / f"python3.{minor}").is_file()]
    return usable[-1] if usable else None


PY311, PY312 = installed("11"), installed("12")
pytestmark = pytest.mark.skipif(
    PY311 is None or PY312 is None, reason="needs CPython 3.11 and 3.12 installed with pyenv"
)
ACTION = setup_python.SetupPython(locations=_interpreters.Locations(system=()))


@pytest.fixture
def machine(harness: Harness, tmp_path: Path) -> Harness:
    """A step environment whose only interpreters are pyenv's 3.11 and 3.12."""
    assert PY311 is not None and PY312 is not None
    versions = tmp_path / "pyenv" / "versions"
    versions.mkdir(parents=True)
    for real in (PY311, PY312):
        (versions / real.name).symlink_to(real)
    tools = tmp_path / "tools"
    tools.mkdir()
    cp = shutil.which("cp")
    assert cp is not None
    (tools / "cp").symlink_to(cp)
    harness.env.update(PATH=str(tools), PYENV_ROOT=str(tmp_path / "pyenv"))
    return harness


def real(version_dir: Path | None, minor: str) -> Path:
    assert version_dir is not None
    return (version_dir / "bin" / f"python3.{minor}").resolve()


def test_a_minor_version_gets_a_venv_of_the_matching_interpreter(machine: Harness) -> None:
    assert PY312 is not None
    io = machine.run(ACTION, {"python-version": "3.12"})

    venv = machine.temp / "setup-python" / f"python-{PY312.name}"
    assert io.outputs == {
        "python-version": PY312.name,
        "python-path": str(venv / "bin" / "python"),
        "cache-hit": "false",
    }
    assert io.paths == [str(venv / "bin")]
    prefix = PY312.resolve()
    assert io.exported == {
        "pythonLocation": str(venv),
        "PKG_CONFIG_PATH": str(prefix / "lib" / "pkgconfig"),
        "Python_ROOT_DIR": str(venv),
        "Python2_ROOT_DIR": str(venv),
        "Python3_ROOT_DIR": str(venv),
        "LD_LIBRARY_PATH": str(prefix / "lib"),
    }
    assert io.lines[-1] == (
        f"Successfully set up CPython {PY312.name} ({real(PY312, '12')}) in a virtual "
        f"environment at {venv}"
    )
    assert io.warnings == []


def test_the_venv_is_isolated_and_its_pip_works_after_the_copy(machine: Harness) -> None:
    io = machine.run(ACTION, {"python-version": "3.12"})
    venv = Path(io.outputs["python-path"]).parent.parent
    code = "import sys, sysconfig; print(sys.prefix); print(sysconfig.get_paths()['purelib'])"
    prefix, purelib = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert prefix == str(venv)
    assert purelib.startswith(str(venv))
    pip = subprocess.run(
        [str(venv / "bin" / "pip"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert f"from {venv}/lib/python3.12/site-packages/pip" in pip
    assert (venv / "bin" / "pip").read_text().splitlines()[0] == f"#!{venv}/bin/python3.12"
    assert str(venv) in (venv / "pyvenv.cfg").read_text()
    assert not (venv / ".shipyard-template").exists()


def test_later_jobs_copy_the_template_and_reuse_the_probes(
    machine: Harness, tmp_path: Path
) -> None:
    machine.run(ACTION, {"python-version": "3.12"})
    (machine.temp / "setup-python").rename(tmp_path / "first-job")  # a new job's temp

    io = machine.run(ACTION, {"python-version": "3.12"})

    assert not any("Creating the environment template" in line for line in io.lines)
    assert [argv[0] for argv in io.commands] == ["cp"]  # no probe, no venv creation
    cache = json.loads((machine.tool_cache / "setup-python" / "interpreters.json").read_text())
    assert str(real(PY312, "12")) in cache["interpreters"]


@pytest.mark.parametrize(
    ("request_text", "minor"),
    [
        ("3.11", "11"),
        ("3.x", "12"),
        (">=3.11 <3.12", "11"),
        ("~3.11", "11"),
        ("^3.11", "12"),
        ("3.10 - 3.11", "11"),
        ("3", "12"),
    ],
)
def test_ranges_pick_the_highest_match(machine: Harness, request_text: str, minor: str) -> None:
    io = RecordingIO(machine.env)
    call = machine.call("actions/setup-python")
    found = asyncio.run(_interpreters.discover(io, call, _interpreters.Locations(system=())))
    request = setup_python.PythonRequest.parse(
        request_text, allow_prereleases=False, freethreaded=False
    )
    chosen = setup_python.choose(request, found, "")
    assert chosen.path == real(PY311 if minor == "11" else PY312, minor)


def test_exact_version(machine: Harness) -> None:
    assert PY311 is not None
    io = RecordingIO(machine.env)
    call = machine.call("actions/setup-python")
    found = asyncio.run(_interpreters.discover(io, call, _interpreters.Locations(system=())))
    request = setup_python.PythonRequest.parse(
        PY311.name, allow_prereleases=False, freethreaded=False
    )
    assert str(setup_python.choose(request, found, "x64").version) == PY311.name


def test_several_versions_are_all_set_up_and_the_last_wins(machine: Harness) -> None:
    assert PY311 is not None and PY312 is not None
    io = machine.run(ACTION, {"python-version": "3.11\n3.12\n"})
    base = machine.temp / "setup-python"
    assert io.paths == [
        str(base / f"python-{PY311.name}" / "bin"),
        str(base / f"python-{PY312.name}" / "bin"),
    ]
    assert io.outputs["python-version"] == PY312.name


def test_a_missing_version_names_what_is_installed_and_how_to_add_one(machine: Harness) -> None:
    assert PY311 is not None and PY312 is not None
    with pytest.raises(interface.ActionFailed) as failure:
        machine.run(ACTION, {"python-version": "3.14"})
    assert failure.value.message == (
        "Python 3.14 is not installed on this machine; available: "
        f"{PY311.name} ({real(PY311, '11')}, pyenv), {PY312.name} ({real(PY312, '12')}, pyenv)"
    )
    assert failure.value.hint == (
        "install it (`uv python install 3.14` or `pyenv install 3.14`) and run again, "
        "or ask for an available version"
    )


def test_a_missing_architecture_or_implementation_fails_the_same_way(machine: Harness) -> None:
    with pytest.raises(interface.ActionFailed) as failure:
        machine.run(ACTION, {"python-version": "3.12", "architecture": "x86"})
    assert failure.value.message.startswith(
        "Python 3.12 (x86) is not installed on this machine; available: "
    )
    with pytest.raises(interface.ActionFailed) as failure:
        machine.run(ACTION, {"python-version": "pypy3.10"})
    assert failure.value.hint is not None
    assert "`uv python install pypy@3.10`" in failure.value.hint


def test_no_interpreter_at_all(harness: Harness) -> None:
    harness.env.update(PATH=str(harness.root), PYENV_ROOT=str(harness.root / "none"))
    with pytest.raises(interface.ActionFailed) as failure:
        harness.run(ACTION, {"python-version": "3.12"})
    assert failure.value.message == (
        "Python 3.12 is not installed on this machine; no Python interpreter was found on "
        "PATH, in pyenv, among uv's Pythons or in /usr/local/bin and /usr/bin"
    )


def test_update_environment_false_only_sets_outputs(machine: Harness) -> None:
    io = machine.run(ACTION, {"python-version": "3.12", "update-environment": "false"})
    assert io.paths == []
    assert io.exported == {}
    assert Path(io.outputs["python-path"]).is_file()


def test_the_version_file_input(machine: Harness) -> None:
    assert PY312 is not None
    (machine.workspace / "pyproject.toml").write_text(
        '[project]\nname = "shop"\nrequires-python = ">=3.12,<3.13"\n'
    )
    io = machine.run(ACTION, {"python-version-file": "pyproject.toml"})
    assert io.outputs["python-version"] == PY312.name
    assert "Resolved pyproject.toml as >=3.12 <3.13" in io.lines


def test_dot_python_version_is_read_by_default(machine: Harness) -> None:
    assert PY312 is not None
    (machine.workspace / ".python-version").write_text("3.12\n")
    io = machine.run(ACTION)
    assert io.outputs["python-version"] == PY312.name


def test_without_any_version_it_warns_and_does_nothing(machine: Harness) -> None:
    io = machine.run(ACTION)
    assert io.warnings == [
        "The `python-version` input is not set.  The version of Python currently in `PATH` "
        "will be used."
    ]
    assert io.outputs == {}
    assert io.lines == [
        "[warning]Neither 'python-version' nor 'python-version-file' inputs were supplied. "
        "Attempting to find '.python-version' file.",
        "[warning].python-version doesn't exist.",
    ]


def test_a_missing_version_file_fails(machine: Harness) -> None:
    with pytest.raises(interface.ActionFailed) as failure:
        machine.run(ACTION, {"python-version-file": ".nope"})
    assert failure.value.message == "The specified python version file at: .nope doesn't exist."


def test_both_inputs_warn_and_the_version_wins(machine: Harness) -> None:
    (machine.workspace / ".python-version").write_text("3.11\n")
    io = machine.run(ACTION, {"python-version": "3.12", "python-version-file": ".python-version"})
    assert io.warnings == [
        "Both python-version and python-version-file inputs are specified, only "
        "python-version will be used."
    ]


def test_an_invalid_version_says_what_is_accepted(machine: Harness) -> None:
    with pytest.raises(interface.ActionFailed) as failure:
        machine.run(ACTION, {"python-version": "three"})
    assert failure.value.message == (
        "python-version 'three' is not a version or a version range "
        "('three' is not a version or a version range)"
    )
    assert failure.value.hint == "examples: 3.12, 3.12.3, 3.x, >=3.11 <3.13, 3.13t, pypy3.10"


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (".python-version", "# pinned\n3.12.1\n\n3.11\n", ["3.12.1", "3.11"]),
        (".tool-versions", "nodejs 20.1.0\npython 3.12.1 3.11.7\n", ["3.12.1"]),
        ("pyproject.toml", '[project]\nrequires-python = ">=3.9, <4"\n', [">=3.9 <4"]),
        ("pyproject.toml", '[tool.poetry.dependencies]\npython = "^3.11"\n', ["^3.11"]),
        ("pyproject.toml", '[project]\nname = "x"\n', []),
        ("Pipfile", '[requires]\npython_version = "3.11"\n', ["3.11"]),
    ],
)
def test_version_files(tmp_path: Path, name: str, text: str, expected: list[str]) -> None:
    path = tmp_path / name
    path.write_text(text)
    assert setup_python.versions_from_file(path, RecordingIO({})) == expected


def test_shims_and_scripts_are_not_interpreters(machine: Harness, tmp_path: Path) -> None:
    shims = tmp_path / "shims"
    scripts = tmp_path / "scripts"
    for directory in (shims, scripts):
        directory.mkdir()
        script = directory / "python3.99"
        script.write_text("#!/bin/sh\necho 3.99\n")
        script.chmod(0o755)
    machine.env["PATH"] = f"{shims}:{scripts}:{machine.env['PATH']}"
    with pytest.raises(interface.ActionFailed) as failure:
        machine.run(ACTION, {"python-version": "3.99"})
    assert "3.99" not in failure.value.message.split("available: ")[1]


def test_relocate_rewrites_paths_and_falls_back_to_a_trampoline(tmp_path: Path) -> None:
    old = "/tool-cache/venvs/.staging-1"
    long = tmp_path / ("x" * 120)
    (long / "bin").mkdir(parents=True)
    (long / "pyvenv.cfg").write_text(f"home = /usr/bin\ncommand = /usr/bin/python3 -m venv {old}\n")
    (long / "bin" / "pip").write_text(f"#!{old}/bin/python3\nimport pip\n")
    (long / "bin" / "activate").write_text(f"VIRTUAL_ENV='{old}'\n")
    _venvs.relocate(long, old)
    assert (long / "pyvenv.cfg").read_text().endswith(f"-m venv {long}\n")
    assert (long / "bin" / "activate").read_text() == f"VIRTUAL_ENV='{long}'\n"
    assert (long / "bin" / "pip").read_text() == (
        f"#!/bin/sh\n'''exec' \"{long}/bin/python3\" \"$0\" \"$@\"\n' '''\nimport pip\n"
    )


@pytest.mark.skipif(shutil.which("uv") is None, reason="uv is not installed")
def test_uv_on_path_is_asked_for_its_pythons(machine: Harness) -> None:
    uv = shutil.which("uv")
    assert uv is not None
    machine.env["PATH"] += f":{Path(uv).parent}"
    io = machine.run(ACTION, {"python-version": "3.12", "update-environment": "false"})
    assert [argv[1:5] for argv in io.ran("uv")] == [
        ["python", "list", "--only-installed", "--output-format"]
    ]
    assert io.outputs["python-version"] == (PY312.name if PY312 else "")
