"""Starting a step's process with the least work the runtime allows.

``subprocess.Popen`` encodes the environment again for every process, through two Python-level
``os.fsencode`` calls per variable: with the hundred-odd variables of a step that is most of the
runner's own cost of starting a trivial step. On CPython 3.11 and 3.12, whose process-creation
primitive (``_posixsubprocess.fork_exec``) has the signature ``Popen`` itself calls it with, this
module calls it directly with an environment list built from a cache of ``KEY=value`` strings;
elsewhere it uses ``Popen``. Either way the child gets exactly what ``Popen`` would give it: a new
session, standard input from ``/dev/null``, standard output and error on ``output_fd``, every
other descriptor closed, default signal dispositions restored, ``cwd`` as working directory.
"""

from __future__ import annotations

import errno as errno_codes
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

try:
    import _posixsubprocess
except ImportError:  # pragma: no cover - not a POSIX CPython
    _posixsubprocess = None  # type: ignore[assignment]

DIRECT = _posixsubprocess is not None and sys.version_info[:2] in ((3, 11), (3, 12))
"""Whether processes start through fork_exec directly (else through Popen)."""

_PAIRS: dict[tuple[str, str], bytes] = {}
_PAIRS_KEPT = 100_000
_EXECUTABLES: dict[tuple[str, str | None], tuple[bytes, ...]] = {}
_devnull = -1


class Child:
    """A started process: its id, and the Popen object when Popen started it."""

    __slots__ = ("pid", "popen")

    def __init__(self, pid: int, popen: subprocess.Popen[bytes] | None) -> None:
        self.pid = pid
        self.popen = popen

    def ended(self, code: int) -> None:
        """Record the exit status (a Popen object then knows it needs no waiting)."""
        if self.popen is not None:
            self.popen.returncode = code


def start(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], output_fd: int) -> Child:
    """Start ``argv``. Raises ``OSError`` (``FileNotFoundError``, ...) as ``Popen`` does."""
    if not DIRECT:
        popen = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output_fd,
            stderr=output_fd,
            start_new_session=True,
        )
        return Child(popen.pid, popen)
    return Child(_fork_exec(argv, os.fspath(cwd), env, output_fd), None)


def environment_list(env: Mapping[str, str]) -> list[bytes]:
    """``KEY=value`` as bytes for each variable; each pair is encoded once per process.

    The lookups run in C (``map`` over the items); only pairs not seen before are encoded.
    """
    pairs = _PAIRS
    if len(pairs) > _PAIRS_KEPT:
        pairs.clear()
    found: list[bytes | None] = list(map(pairs.get, env.items()))
    if None in found:
        for index, item in enumerate(env.items()):
            if found[index] is None:
                key, value = item
                if "=" in key or "\0" in key or "\0" in value:
                    raise ValueError(f"illegal environment variable name or value: {key!r}")
                found[index] = pairs[item] = f"{key}={value}".encode("utf-8", "surrogateescape")
    return found  # type: ignore[return-value]  # no None is left


def _executables(program: str, path: str | None) -> tuple[bytes, ...]:
    """Where ``program`` may be, in PATH order, as Popen searches (execve tries each)."""
    key = (program, path)
    found = _EXECUTABLES.get(key)
    if found is None:
        name = os.fsencode(program)
        if os.path.dirname(name):
            found = (name,)
        else:
            found = tuple(
                os.path.join(os.fsencode(directory), name)
                for directory in os.get_exec_path({"PATH": path} if path is not None else {})
            )
        if len(_EXECUTABLES) > 1024:
            _EXECUTABLES.clear()
        _EXECUTABLES[key] = found
    return found


def _null() -> int:
    global _devnull  # noqa: PLW0603 - one descriptor for the whole process, opened once
    if _devnull < 0:
        _devnull = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    return _devnull


def _fork_exec(argv: Sequence[str], cwd: str, env: Mapping[str, str], output_fd: int) -> int:
    args = [os.fsencode(part) for part in argv]
    executables = _executables(argv[0], env.get("PATH"))
    env_list = environment_list(env)
    null = _null()
    error_read, error_write = os.pipe2(os.O_CLOEXEC)
    try:
        try:
            pid = _posixsubprocess.fork_exec(
                args,
                executables,
                True,  # close_fds
                (error_write,),  # fds to keep
                cwd,
                env_list,
                null,  # stdin: /dev/null
                -1,
                -1,
                output_fd,  # stdout
                -1,
                output_fd,  # stderr
                error_read,
                error_write,
                True,  # restore_signals
                True,  # start_new_session
                -1,  # process_group
                None,  # gid
                None,  # extra groups
                None,  # uid
                -1,  # umask
                None,  # type: ignore[arg-type]  # preexec_fn: none
                True,  # allow vfork
            )
        finally:
            os.close(error_write)
        report = _read_all(error_read)
    finally:
        os.close(error_read)
    if report:
        os.waitpid(pid, 0)
        raise _child_error(report, argv[0], cwd)
    return pid


def _read_all(fd: int) -> bytes:
    """What the child wrote before exec failed (nothing when exec succeeded: the pipe closed)."""
    chunks: list[bytes] = []
    while True:
        chunk = os.read(fd, 50_000)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _child_error(report: bytes, program: str, cwd: str) -> OSError:
    """The OSError Popen would raise for the child's ``Name:hex-errno:detail`` report."""
    name, _, rest = report.partition(b":")
    code_text, _, detail = rest.partition(b":")
    try:
        code = int(code_text, 16)
    except ValueError:
        return OSError(errno_codes.EIO, f"cannot start {program}: {report!r}")
    if name != b"OSError" or code == 0:
        return OSError(
            errno_codes.EIO, f"cannot start {program}: {report.decode(errors='replace')}"
        )
    # "noexec": the child failed before exec, where changing directory is what can fail.
    where = cwd if detail.startswith(b"noexec") else program
    return OSError(code, os.strerror(code), where)
