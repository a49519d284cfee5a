"""Built-in ``actions/checkout`` (v4 semantics), served from the local repository.

Checks the event's commit (``call.repository.sha``) of the repository the run started from out
into the workspace, or into ``path`` below it, as a real git repository whose ``origin`` is the
local repository. Like the real action it fetches ``fetch-depth`` commits (1 by default; 0 for
all branches and tags), creates the local branch for a branch ref (``git checkout -B main
refs/remotes/origin/main``), leaves HEAD detached for a commit, a tag or a pull-request ref,
resolves a ``ref`` input against the local repository's branches and tags, and cleans or
replaces what is already at the path. A shallow fetch runs ``git init`` + ``git fetch
--depth=N file://...``; a full one clones with ``git clone --local`` (hard links, so its cost
does not grow with the history).

When the source directory is not a git repository (``sha`` is empty), its files are copied
instead, without ``.git``, ``.venv`` and ``__pycache__``.

Deviations: only the local repository can be checked out (``repository`` naming another one
fails); ``token``, ``ssh-*`` and ``persist-credentials`` have nothing to do offline;
``submodules``, ``lfs``, ``sparse-checkout`` and ``filter`` are not supported (a warning, then a
plain checkout). Git runs with ``GIT_ALLOW_PROTOCOL=file`` and ``GIT_TERMINAL_PROMPT=0``: this
action never touches the network and never changes the source repository.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from shipyard.core.frozen import frozen
from shipyard.pipeline.actions import _inputs, _process, interface

_SHA = re.compile(r"[0-9a-fA-F]{40}|[0-9a-fA-F]{64}")
_TAGS_REFSPEC = "+refs/tags/*:refs/tags/*"
_COPY_SKIPS = frozenset({".git", ".venv", "__pycache__"})
# Variables that would point git at another repository than the one in the target directory.
_GIT_LOCATION = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
)
_UNSUPPORTED = {
    "submodules": "submodules are not checked out (they would need the network)",
    "lfs": "Git LFS files are not fetched",
    "sparse-checkout": "the whole tree is checked out",
    "filter": "the fetch is not filtered",
}


@frozen
class CheckoutSettings:
    """What to check out where: ``ref`` and ``commit`` as actions/checkout holds them."""

    target: Path
    ref: str
    """The event's ref qualified (``refs/heads/main``), or the ``ref`` input as written."""
    commit: str
    """The commit to check out; empty when only a ref is known."""
    fetch_depth: int
    fetch_tags: bool
    clean: bool


class Checkout:
    """``actions/checkout``: the run's commit of the local repository into the workspace."""

    names: tuple[str, ...] = ("actions/checkout",)

    async def run(self, call: interface.ActionCall, io: interface.ActionIO) -> None:
        settings = read_settings(call, io)
        io.log(f"Syncing repository: {call.repository.name} from {call.repository.root}")
        if not call.repository.sha:
            await _copy_source(call, io, settings)
            return
        git = _Git(io, call, settings.target)
        await _prepare_target(git, io, settings, call.repository.root)
        if settings.fetch_depth == 0 and not (settings.target / ".git").exists():
            await _clone_everything(git, settings, call.repository.root)
        else:
            await _fetch(git, settings, call.repository.root)
        await _check_out(git, settings, call.repository.root)
        commit = settings.commit or (await git.output("rev-parse", "HEAD")).strip()
        io.set_output("ref", settings.ref)
        io.set_output("commit", commit)
        shown = settings.ref or commit
        io.log(f"Checked out {shown} ({commit}) into {settings.target}")


def read_settings(call: interface.ActionCall, io: interface.ActionIO) -> CheckoutSettings:
    """Validate the inputs as actions/checkout does, warning about unsupported ones."""
    requested = call.input("repository")
    if requested and requested.lower() != call.repository.name.lower():
        raise interface.ActionFailed(
            f"repository {requested!r} cannot be checked out offline: Shipyard's built-in "
            f"actions/checkout serves only the repository the run started from "
            f"({call.repository.name or call.repository.root})",
            hint="clone the other repository in a `run:` step from a local copy "
            "(git clone /path/to/other other), or drop `repository:` to check out this one",
        )
    workspace = Path(os.path.normpath(call.workspace))
    target = Path(os.path.normpath(workspace / call.input("path", ".")))
    if target != workspace and workspace not in target.parents:
        raise interface.ActionFailed(f"Repository path '{target}' is not under '{workspace}'")
    for name, consequence in _UNSUPPORTED.items():
        value = call.input(name)
        if value and value.lower() != "false":
            io.warning(
                f"actions/checkout: input `{name}` is not supported by Shipyard; {consequence}"
            )
    ref, commit = _ref_and_commit(call)
    depth = _inputs.integer(call, "fetch-depth", 1)
    return CheckoutSettings(
        target=target,
        ref=ref,
        commit=commit,
        fetch_depth=depth if depth is not None and depth > 0 else 0,
        fetch_tags=_inputs.boolean(call, "fetch-tags", False),
        clean=_inputs.boolean(call, "clean", True),
    )


def _ref_and_commit(call: interface.ActionCall) -> tuple[str, str]:
    ref = call.input("ref")
    if not ref:
        ref, commit = call.repository.ref, call.repository.sha
        if commit and ref and not ref.startswith("refs/"):
            ref = f"refs/heads/{ref}"
        return ref, commit
    if _SHA.fullmatch(ref):
        return "", ref.lower()
    return ref, ""


def refspecs(ref: str, commit: str) -> list[str]:
    """What to fetch for one ref and/or commit (actions/checkout's ``getRefSpec``)."""
    upper = ref.upper()
    if commit:
        if upper.startswith("REFS/HEADS/"):
            return [f"+{commit}:refs/remotes/origin/{ref[len('refs/heads/') :]}"]
        if upper.startswith("REFS/PULL/"):
            return [f"+{commit}:refs/remotes/pull/{ref[len('refs/pull/') :]}"]
        if upper.startswith("REFS/TAGS/"):
            return [f"+{commit}:{ref}"]
        return [commit]
    if not upper.startswith("REFS/"):
        return [
            f"+refs/heads/{ref}*:refs/remotes/origin/{ref}*",
            f"+refs/tags/{ref}*:refs/tags/{ref}*",
        ]
    if upper.startswith("REFS/HEADS/"):
        return [f"+{ref}:refs/remotes/origin/{ref[len('refs/heads/') :]}"]
    if upper.startswith("REFS/PULL/"):
        return [f"+{ref}:refs/remotes/pull/{ref[len('refs/pull/') :]}"]
    return [f"+{ref}:{ref}"]


def all_history_refspecs(ref: str, commit: str) -> list[str]:
    """Every branch and tag, plus a pull-request ref (``getRefSpecForAllHistory``)."""
    result = ["+refs/heads/*:refs/remotes/origin/*", _TAGS_REFSPEC]
    if ref.upper().startswith("REFS/PULL/"):
        result.append(f"+{commit or ref}:refs/remotes/pull/{ref[len('refs/pull/') :]}")
    return result


class _Git:
    """Git commands in the target directory, offline, through ``ActionIO``."""

    def __init__(self, io: interface.ActionIO, call: interface.ActionCall, cwd: Path) -> None:
        self.io = io
        self.cwd = cwd
        self.scratch = call.temp / "checkout"
        self.env = _process.environment(
            call.env,
            drop=_GIT_LOCATION,
            extra={
                "GIT_TERMINAL_PROMPT": "0",
                "GIT_ALLOW_PROTOCOL": "file",
                "GIT_LFS_SKIP_SMUDGE": "1",
            },
        )

    async def status(self, *args: str) -> int:
        return await self.io.run_command(["git", *args], cwd=self.cwd, env=self.env)

    async def shell(self, script: str) -> None:
        status = await self.io.run_command(["/bin/sh", "-c", script], cwd=self.cwd, env=self.env)
        if status != 0:
            raise interface.ActionFailed(f"`{script}` failed with exit status {status}")

    async def run(self, *args: str) -> None:
        status = await self.status(*args)
        if status != 0:
            raise _git_failed(args, status)

    async def output(self, *args: str, check: bool = True) -> str:
        result = await _process.output_of(
            self.io, ["git", *args], cwd=self.cwd, scratch=self.scratch, env=self.env
        )
        if check and not result.ok:
            raise interface.ActionFailed(
                f"`git {' '.join(args)}` failed with exit status {result.status}"
            )
        return result.stdout


async def _prepare_target(
    git: _Git, io: interface.ActionIO, settings: CheckoutSettings, source: Path
) -> None:
    """Make the target an empty directory or a reusable clone of ``source`` (as v4 does)."""
    target = settings.target
    if not target.is_dir() and (target.exists() or target.is_symlink()):
        target.unlink()  # a file (or a dangling link) where the repository should go
    target.mkdir(parents=True, exist_ok=True)
    if (target / ".git").is_dir() and await _reuse_clone(git, io, settings, source):
        return
    if any(target.iterdir()):
        io.log(f"Deleting the contents of '{target}'")
        await asyncio.to_thread(_delete_contents, target)


async def _reuse_clone(
    git: _Git, io: interface.ActionIO, settings: CheckoutSettings, source: Path
) -> bool:
    url = await git.output("config", "--get", "remote.origin.url", check=False)
    if url.strip() not in (str(source), source.as_uri()):
        return False
    for lock in ("index.lock", "shallow.lock"):
        (settings.target / ".git" / lock).unlink(missing_ok=True)
    await git.status("checkout", "--quiet", "--detach")
    # Drop every branch and remote-tracking branch in one process, as v4 does before fetching.
    drop = "git for-each-ref --format='delete %(refname)' refs/heads refs/remotes/origin"
    await git.shell(f"{drop} | git update-ref --no-deref --stdin")
    if not settings.clean:
        return True
    if await git.status("clean", "-ffdx") == 0 and await git.status("reset", "--hard", "HEAD") == 0:
        return True
    io.warning("Unable to clean or reset the repository. The repository will be recreated instead.")
    return False


async def _clone_everything(git: _Git, settings: CheckoutSettings, source: Path) -> None:
    """fetch-depth 0: every branch and tag, by a local clone that hard-links the objects."""
    await git.run(
        "clone",
        "--quiet",
        "--local",
        "--no-checkout",
        "--config",
        "gc.auto=0",
        str(source),
        str(settings.target),
    )
    if settings.commit:
        destination = _destination_ref(settings.ref)
        if destination:
            await git.run("update-ref", destination, settings.commit)


def _destination_ref(ref: str) -> str:
    """Where a fetch of the event's commit would have put it (see ``refspecs``)."""
    upper = ref.upper()
    if upper.startswith("REFS/HEADS/"):
        return f"refs/remotes/origin/{ref[len('refs/heads/') :]}"
    if upper.startswith("REFS/PULL/"):
        return f"refs/remotes/pull/{ref[len('refs/pull/') :]}"
    if upper.startswith("REFS/TAGS/"):
        return ref
    return ""


async def _fetch(git: _Git, settings: CheckoutSettings, source: Path) -> None:
    git_dir = settings.target / ".git"
    if not git_dir.is_dir():
        await git.run("init", "--quiet", str(settings.target))
        await git.run("remote", "add", "origin", source.as_uri())
        await git.run("config", "--local", "gc.auto", "0")
    if settings.fetch_depth > 0:
        arguments = _fetch_arguments(refspecs(settings.ref, settings.commit), settings)
        status = await git.status(*arguments)
        if status != 0:
            # A shallow fetch of branch/tag wildcards that match nothing fails without a word.
            if settings.ref and not settings.commit and not settings.ref.startswith("refs/"):
                raise _ref_not_found(settings.ref, source)
            raise _git_failed(arguments, status)
        return
    shallow = (git_dir / "shallow").exists()
    everything = all_history_refspecs(settings.ref, settings.commit)
    await git.run(*_fetch_arguments(everything, settings, shallow=shallow))
    if settings.commit:
        await git.run(*_fetch_arguments(refspecs(settings.ref, settings.commit), settings))


def _fetch_arguments(
    specs: list[str], settings: CheckoutSettings, *, shallow: bool = False
) -> list[str]:
    arguments = ["fetch"]
    if _TAGS_REFSPEC not in specs and not settings.fetch_tags:
        arguments.append("--no-tags")
    arguments += ["--prune", "--no-recurse-submodules"]
    if settings.fetch_depth > 0:
        arguments.append(f"--depth={settings.fetch_depth}")
    elif shallow:
        arguments.append("--unshallow")
    return [*arguments, "origin", *specs]


async def _check_out(git: _Git, settings: CheckoutSettings, source: Path) -> None:
    ref, commit = settings.ref, settings.commit
    upper = ref.upper()
    checkout = ["-c", "advice.detachedHead=false", "checkout", "--quiet", "--force"]
    if not ref:
        await git.run(*checkout, commit)
    elif upper.startswith("REFS/HEADS/"):
        branch = ref[len("refs/heads/") :]
        await git.run(*checkout, "-B", branch, f"refs/remotes/origin/{branch}")
    elif upper.startswith("REFS/PULL/"):
        await git.run(*checkout, f"refs/remotes/pull/{ref[len('refs/pull/') :]}")
    elif upper.startswith("REFS/TAGS/"):
        await git.run(*checkout, ref)
    elif upper.startswith("REFS/"):
        await git.run(*checkout, commit or ref)
    elif await git.status("rev-parse", "--verify", "--quiet", f"refs/remotes/origin/{ref}") == 0:
        await git.run(*checkout, "-B", ref, f"refs/remotes/origin/{ref}")
    elif await git.status("rev-parse", "--verify", "--quiet", f"refs/tags/{ref}") == 0:
        await git.run(*checkout, f"refs/tags/{ref}")
    else:
        raise _ref_not_found(ref, source)


def _ref_not_found(ref: str, source: Path) -> interface.ActionFailed:
    return interface.ActionFailed(
        f"A branch or tag with the name '{ref}' could not be found in {source}",
        hint=f"`git -C {source} branch` and `git -C {source} tag` list what exists; "
        "a commit must be given as its full 40-character SHA",
    )


def _git_failed(arguments: Sequence[str], status: int) -> interface.ActionFailed:
    return interface.ActionFailed(
        f"`git {' '.join(arguments)}` failed with exit status {status}",
        hint="the git output above says why",
    )


async def _copy_source(
    call: interface.ActionCall, io: interface.ActionIO, settings: CheckoutSettings
) -> None:
    source = call.repository.root
    if call.input("ref"):
        io.warning(
            f"actions/checkout: input `ref` ({call.input('ref')}) is ignored: {source} is not a "
            "git repository, so its files are copied as they are"
        )
    io.log(
        f"{source} is not a git repository: copying its files into {settings.target} "
        "(without .git, .venv and __pycache__)"
    )
    settings.target.mkdir(parents=True, exist_ok=True)
    if settings.clean and any(settings.target.iterdir()):
        await asyncio.to_thread(_delete_contents, settings.target)
    await asyncio.to_thread(
        shutil.copytree,
        source,
        settings.target,
        symlinks=True,
        ignore=_copy_ignore(settings.target),
        dirs_exist_ok=True,
    )
    io.set_output("ref", settings.ref)
    io.set_output("commit", "")


def _copy_ignore(target: Path) -> Callable[[str, list[str]], set[str]]:
    """Skip build and version-control leftovers, and the target when it is inside the source."""
    real_target = os.path.realpath(target)

    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = {name for name in names if name in _COPY_SKIPS}
        skipped.update(
            name for name in names if os.path.realpath(os.path.join(directory, name)) == real_target
        )
        return skipped

    return ignore


def _delete_contents(directory: Path) -> None:
    for entry in directory.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
