"""Immutable releases: a git commit archived and built once, then never changed.

A release lives in ``$SHIPYARD_HOME/releases/<app>/<id>/``::

    app/            the commit's files (``git archive``) after its services' ``build`` commands
    build.log       what the build printed, each command introduced by a ``$ command`` line
    manifest.json   commit, tree, project file digest, build duration, size, status

The id is derived from the app, the commit and the project file, so the same commit gives the same
release, built once. A build happens in ``releases/<app>/.staging/`` and is renamed into place when
done, so a crash never leaves a half-built release where a deploy could find it. A built release's
files are made read-only. A failed build is recorded too (status ``failed``, with its log) and can
never be deployed; creating the same release again retries its build.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Literal

from shipyard.core import errors
from shipyard.core.frozen import frozen
from shipyard.spec import project, project_loader
from shipyard.store import database, records

MANIFEST = "manifest.json"
BUILD_LOG = "build.log"
TREE = "app"
STAGING = ".staging"
ID_LENGTH = 12
BUILD_TIMEOUT = 30 * 60.0
"""Seconds one service's build command may take."""

Status = Literal["built", "failed"]


class ReleaseError(errors.ExecutionError):
    """A release cannot be created or used: no such commit, a failed build, an unknown id."""

    exit_code = 2


class BuildFailed(ReleaseError):
    """A service's ``build`` command failed; the release is recorded as failed, with its log."""


@frozen
class Manifest:
    """What a release is made of and how its build went."""

    id: str
    app: str
    commit: str
    tree: str
    ref: str
    project_digest: str
    status: Status
    created_at: float
    build_seconds: float
    size_bytes: int
    failed_service: str | None = None

    @property
    def deployable(self) -> bool:
        return self.status == "built"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        return cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})


@frozen
class Source:
    """A commit resolved in a repository, with its project file."""

    repository: Path
    ref: str
    commit: str
    tree: str
    project_text: str
    project: project.Project

    @property
    def project_digest(self) -> str:
        return hashlib.sha256(self.project_text.encode()).hexdigest()


def release_id(app: str, commit: str, project_digest: str) -> str:
    """The release id of a commit: the same app, commit and project file give the same id."""
    material = f"shipyard-release-1\0{app}\0{commit}\0{project_digest}".encode()
    return hashlib.sha256(material).hexdigest()[:ID_LENGTH]


def release_dir(releases_root: Path, app: str, identifier: str) -> Path:
    return releases_root / app / identifier


def tree_dir(releases_root: Path, app: str, identifier: str) -> Path:
    """The directory services are built and run in."""
    return release_dir(releases_root, app, identifier) / TREE


# -- reading the repository --


def resolve_source(repository: Path, ref: str = "HEAD") -> Source:
    """The commit ``ref`` names in ``repository`` and its validated ``shipyard.yaml``."""
    root = Path(_git(repository, "rev-parse", "--show-toplevel", what="find the repository"))
    commit = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", what=ref)
    tree = _git(root, "rev-parse", f"{commit}^{{tree}}", what=ref)
    try:
        text = _git(root, "show", f"{commit}:{project.PROJECT_FILE}", what="", strip=False)
    except ReleaseError:
        raise ReleaseError(
            f"commit {commit[:12]} has no {project.PROJECT_FILE}",
            hint=f"add {project.PROJECT_FILE} at the root of the repository and commit it "
            "(see docs/project.md)",
        ) from None
    shown = f"{project.PROJECT_FILE}@{commit[:12]}"
    loaded = project_loader.load_project(text, path=shown)
    return Source(root, ref, commit, tree, text, loaded)


def _git(cwd: Path, *args: str, what: str, strip: bool = True) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=60
        )
    except FileNotFoundError:
        raise ReleaseError("git is not installed", hint="install git, then try again") from None
    except NotADirectoryError:
        raise ReleaseError(f"no such directory: {cwd}") from None
    if done.returncode != 0:
        if what == "find the repository":
            raise ReleaseError(
                f"{cwd} is not in a git repository",
                hint="run this inside the app's repository",
            )
        if what:
            raise ReleaseError(
                f"no commit `{what}` in {cwd}",
                hint="give a branch, tag or commit id that exists: `--ref main`",
            )
        raise ReleaseError(done.stderr.strip() or f"git {args[0]} failed")
    return done.stdout.strip() if strip else done.stdout


# -- creating --


def create_release(
    releases_root: Path,
    source: Source,
    *,
    on_line: Callable[[str], None] = lambda line: None,
    build_timeout: float = BUILD_TIMEOUT,
) -> Manifest:
    """Archive and build ``source``, or return the release already built from it.

    Raises ``BuildFailed`` after recording the failure when a build command fails.
    """
    app = source.project.app
    identifier = release_id(app, source.commit, source.project_digest)
    final = release_dir(releases_root, app, identifier)
    existing = read_manifest(final)
    if existing is not None and existing.deployable:
        return existing
    staging_root = releases_root / app / STAGING
    staging_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{identifier}-", dir=staging_root))
    staging.chmod(0o755)
    try:
        manifest = _build(staging, source, identifier, on_line, build_timeout)
        _publish(staging, final, manifest)
    finally:
        if staging.exists():
            _remove(staging)
    if not manifest.deployable:
        raise BuildFailed(
            f"the build of service `{manifest.failed_service}` failed; release {identifier} "
            "is recorded as failed",
            hint=f"read its log: {final / BUILD_LOG}",
        )
    return manifest


def _build(
    staging: Path,
    source: Source,
    identifier: str,
    on_line: Callable[[str], None],
    build_timeout: float,
) -> Manifest:
    tree = staging / TREE
    tree.mkdir()
    _extract(source, tree)
    started = time.time()
    failed: str | None = None
    with (staging / BUILD_LOG).open("w", encoding="utf-8") as log:

        def emit(line: str) -> None:
            log.write(line + "\n")
            log.flush()
            on_line(line)

        for service in source.project.services.values():
            if service.build is None:
                continue
            emit(f"$ {service.build}")
            status = _run_build(service.build, tree, identifier, emit, build_timeout)
            if status != 0:
                emit(f"build of service `{service.name}` failed (exit status {status})")
                failed = service.name
                break
    manifest = Manifest(
        id=identifier,
        app=source.project.app,
        commit=source.commit,
        tree=source.tree,
        ref=source.ref,
        project_digest=source.project_digest,
        status="failed" if failed else "built",
        created_at=round(started, 3),
        build_seconds=round(time.time() - started, 3),
        size_bytes=_size(tree),
        failed_service=failed,
    )
    (staging / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
    if failed is None:
        _make_read_only(staging)
    return manifest


def _extract(source: Source, tree: Path) -> None:
    with tempfile.TemporaryFile() as archive:
        done = subprocess.run(
            ["git", "archive", "--format=tar", source.commit],
            cwd=source.repository,
            stdout=archive,
            stderr=subprocess.PIPE,
            check=False,
            timeout=600,
        )
        if done.returncode != 0:
            raise ReleaseError(f"git archive failed: {done.stderr.decode(errors='replace')}")
        archive.seek(0)
        with tarfile.open(fileobj=archive, mode="r:") as tar:
            tar.extractall(tree, filter="data")


def _run_build(
    command: str, cwd: Path, identifier: str, emit: Callable[[str], None], timeout: float
) -> int:
    environment = {**os.environ, "SHIPYARD_RELEASE": identifier}
    process = subprocess.Popen(
        ["/bin/sh", "-c", command],
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    assert process.stdout is not None
    timed_out = threading.Event()

    def stop() -> None:
        timed_out.set()
        _kill_group(process.pid)

    timer = threading.Timer(timeout, stop)
    timer.start()
    try:
        for raw in process.stdout:
            emit(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
        status = process.wait()
    finally:
        timer.cancel()
        _kill_group(process.pid)  # nothing a build started outlives it
        process.stdout.close()
        process.wait()
    if timed_out.is_set():
        emit(f"the build took longer than {timeout:g} s and was stopped")
    return status


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _publish(staging: Path, final: Path, manifest: Manifest) -> None:
    """Move a finished build into place; a failed record it replaces is removed first."""
    if final.exists():
        current = read_manifest(final)
        if current is not None and current.deployable:
            return  # another builder finished first: keep its release
        _remove(final)
    os.rename(staging, final)


def _make_read_only(root: Path) -> None:
    for path in [*_walk(root), root]:
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            continue
        os.chmod(path, stat.S_IMODE(mode) & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _walk(root: Path) -> Iterator[Path]:
    for directory, folders, files in os.walk(root, topdown=False):
        for name in [*files, *folders]:
            yield Path(directory) / name


def _remove(path: Path) -> None:
    """Remove a tree, read-only parts included."""
    for item in [path, *_walk(path)]:
        with contextlib.suppress(OSError):
            if not item.is_symlink():
                os.chmod(item, stat.S_IMODE(item.lstat().st_mode) | stat.S_IWUSR | stat.S_IXUSR)
    shutil.rmtree(path, ignore_errors=True)


def _size(root: Path) -> int:
    total = 0
    for path in _walk(root):
        with contextlib.suppress(OSError):
            info = path.lstat()
            if stat.S_ISREG(info.st_mode):
                total += info.st_size
    return total


# -- reading --


def read_manifest(directory: Path) -> Manifest | None:
    try:
        return Manifest.from_json((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def list_releases(releases_root: Path, app: str | None = None) -> list[Manifest]:
    """Every recorded release (of ``app``, or of every app), newest first."""
    apps = [app] if app else sorted(p.name for p in _children(releases_root))
    found = []
    for name in apps:
        for directory in _children(releases_root / name):
            if directory.name == STAGING:
                continue
            manifest = read_manifest(directory)
            if manifest is not None:
                found.append(manifest)
    return sorted(found, key=lambda manifest: (-manifest.created_at, manifest.id))


def _children(directory: Path) -> list[Path]:
    try:
        return [child for child in directory.iterdir() if child.is_dir()]
    except OSError:
        return []


def find_release(releases_root: Path, app: str, identifier: str) -> Manifest:
    """A release by id (or an unambiguous prefix of one)."""
    matches = [
        manifest
        for manifest in list_releases(releases_root, app)
        if manifest.id.startswith(identifier)
    ]
    if len(matches) != 1:
        known = ", ".join(manifest.id for manifest in list_releases(releases_root, app)[:5])
        problem = "no release" if not matches else "more than one release starts with"
        raise ReleaseError(
            f"{problem} `{identifier}` of app `{app}`",
            hint=f"known releases: {known}" if known else "create one: `shipyard release create`",
        )
    return matches[0]


def deployable(releases_root: Path, app: str, identifier: str) -> Manifest:
    """A release that may be deployed: built, with its files in place."""
    manifest = find_release(releases_root, app, identifier)
    if not manifest.deployable:
        raise ReleaseError(
            f"release {manifest.id} failed to build and can never be deployed",
            hint=f"read its log: {release_dir(releases_root, app, manifest.id) / BUILD_LOG}; "
            "fix the build, commit and create a new release",
        )
    return manifest


def load_project(releases_root: Path, manifest: Manifest) -> project.Project:
    """The project file as it is in the release."""
    tree = tree_dir(releases_root, manifest.app, manifest.id)
    shown = f"{project.PROJECT_FILE}@{manifest.commit[:12]}"
    return project_loader.load_project_file(tree / project.PROJECT_FILE, display_path=shown)


def record(store: database.Store, releases_root: Path, app: str) -> None:
    """Mirror an app's release manifests into the store, where the server reads them."""
    records.sync_releases(
        store,
        [
            records.ReleaseRecord(**asdict(manifest))
            for manifest in list_releases(releases_root, app)
        ],
    )
