"""Starting a step's process: both ways (fork_exec directly, and Popen) give the child the same
world — environment, working directory, session, standard streams, descriptors, signals."""

from __future__ import annotations

import ast
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard.pipeline.run import spawn

PROBE = """
import os, sys
print("cwd", os.getcwd())
print("session-leader", os.getsid(0) == os.getpid())
print("stdin", repr(sys.stdin.read()))
print("fds", sorted(int(fd) for fd in os.listdir("/proc/self/fd")))
print("env", sorted(os.environ.items()))
"""


@pytest.fixture(params=["direct", "popen"])
def way(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "direct" and not spawn.DIRECT:
        pytest.fail("this Python should start processes through fork_exec")
    monkeypatch.setattr(spawn, "DIRECT", request.param == "direct")
    yield request.param


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
    try:
        child = spawn.start(argv, cwd=cwd, env=env, output_fd=write_fd)
    finally:
        os.close(write_fd)
    with os.fdopen(read_fd, "rb") as output:
        text = output.read().decode()
    _, status = os.waitpid(child.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    child.ended(code)
    return code, text


def test_the_child_gets_exactly_its_environment_directory_and_streams(
    way: str, tmp_path: Path
) -> None:
    env = {"PATH": os.environ["PATH"], "STEP": "ünïcode value", "EMPTY": ""}
    code, text = run([sys.executable, "-c", PROBE], tmp_path, env)
    assert code == 0, text
    lines = dict(line.split(" ", 1) for line in text.splitlines())
    assert lines["cwd"] == str(tmp_path)
    assert lines["session-leader"] == "True"
    assert lines["stdin"] == "''"
    assert lines["fds"] == "[0, 1, 2, 3]"  # 3: the directory listdir opened
    variables = dict(ast.literal_eval(lines["env"]))
    variables.pop("LC_CTYPE", None)  # the interpreter may set it for its own locale coercion
    assert variables == env


def test_signals_python_ignores_are_restored_for_the_child(way: str, tmp_path: Path) -> None:
    # The runner (a Python process) ignores SIGPIPE and SIGXFSZ; a step's shell must not inherit
    # that. Other ignored signals are inherited, as with Popen (a runner started under nohup).
    code, text = run(["grep", "SigIgn", "/proc/self/status"], tmp_path, {"PATH": "/usr/bin:/bin"})
    assert code == 0, text
    ignored = int(text.split()[1], 16)
    for number in (signal.SIGPIPE, signal.SIGXFSZ):
        assert not ignored & (1 << (number - 1)), f"{number!r} is ignored in the child"
    with open("/proc/self/status") as status:
        parent = int(next(line for line in status if line.startswith("SigIgn")).split()[1], 16)
    python_only = (1 << (signal.SIGPIPE - 1)) | (1 << (signal.SIGXFSZ - 1))
    assert ignored == parent & ~python_only


def test_a_program_found_on_the_steps_path(way: str, tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    tool = tools / "hello-tool"
    tool.write_text("#!/bin/sh\necho hello from $0\n")
    tool.chmod(0o755)
    code, text = run(["hello-tool"], tmp_path, {"PATH": f"{tools}:/usr/bin:/bin"})
    assert (code, text) == (0, f"hello from {tool}\n")


def test_path_entries_without_an_executable_of_that_name_are_passed_over(
    way: str, tmp_path: Path
) -> None:
    plain, folder, tools = tmp_path / "plain", tmp_path / "folder", tmp_path / "tools"
    for directory in (plain, folder, tools):
        directory.mkdir()
    (plain / "hello-tool").write_text("#!/bin/sh\necho not executable\n")
    (folder / "hello-tool").mkdir()
    tool = tools / "hello-tool"
    tool.write_text("#!/bin/sh\necho hello from $0\n")
    tool.chmod(0o755)
    path = f"{tmp_path / 'missing'}:{plain}:{folder}:{tools}:/usr/bin:/bin"
    code, text = run(["hello-tool"], tmp_path, {"PATH": path})
    assert (code, text) == (0, f"hello from {tool}\n")


def test_a_program_is_looked_up_again_for_every_start(way: str, tmp_path: Path) -> None:
    early, late = tmp_path / "early", tmp_path / "late"
    for directory in (early, late):
        directory.mkdir()
        tool = directory / "which-tool"
        tool.write_text(f"#!/bin/sh\necho {directory.name}\n")
    (late / "which-tool").chmod(0o755)
    env = {"PATH": f"{early}:{late}:/usr/bin:/bin"}
    assert run(["which-tool"], tmp_path, env) == (0, "late\n")
    (early / "which-tool").chmod(0o755)  # a step made it executable: the next step finds it
    assert run(["which-tool"], tmp_path, env) == (0, "early\n")


def test_a_program_only_found_without_execute_permission_is_permission_denied(
    way: str, tmp_path: Path
) -> None:
    (tmp_path / "hello-tool").write_text("echo hi\n")
    with pytest.raises(PermissionError):
        path = f"{tmp_path / 'missing'}:{tmp_path}:{tmp_path / 'missing-too'}"
        spawn.start(["hello-tool"], cwd=tmp_path, env={"PATH": path}, output_fd=1)


def test_a_missing_program_raises_file_not_found(way: str, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        spawn.start(["no-such-program-here"], cwd=tmp_path, env={"PATH": "/usr/bin"}, output_fd=1)


def test_a_file_that_is_not_executable_raises_permission_error(way: str, tmp_path: Path) -> None:
    script = tmp_path / "script.sh"
    script.write_text("echo hi\n")
    with pytest.raises(PermissionError):
        spawn.start([str(script)], cwd=tmp_path, env={}, output_fd=1)


def test_a_missing_working_directory_names_it(way: str, tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    with pytest.raises(FileNotFoundError) as raised:
        spawn.start(["true"], cwd=gone, env={"PATH": "/usr/bin:/bin"}, output_fd=1)
    if way == "direct":  # Popen on 3.11 leaves the file name out
        assert raised.value.filename == str(gone)


def test_a_variable_name_with_an_equals_sign_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="illegal environment variable"):
        spawn.environment_list({"A=B": "c"})
