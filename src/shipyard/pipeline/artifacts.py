"""A run's artifact store: what actions/upload-artifact saves and download-artifact restores.

An artifact is a named, immutable set of files with a manifest (paths, sizes, SHA-256 of each
file, and a digest of the whole). The files' bytes live in the content-addressed store
(``shipyard.cache``; ``$SHIPYARD_HOME/cache`` in a run), so a file uploaded twice — by two jobs,
two runs, or a replayed job — is stored once. The run keeps only manifests::

    <name>/manifest.json   the manifest, written last
    .staging/<random>/     an upload in progress; renamed to <name>/ in one step when complete
    .ids/<n>/              one empty directory per artifact id handed out (1, 2, 3 ... per run)

Renaming a complete staging directory into place is what makes an upload atomic: another job
either sees the whole artifact or none of it, and two uploads of one name cannot both win. Each
artifact is also named in the store's index (namespace ``artifacts``), which keeps its blobs from
being collected until the cache's size cap evicts it.

The store never compresses, never expires artifacts (``retention_days`` is recorded for a later
clean-up) and knows nothing about actions; the actions turn its errors into step failures.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from shipyard.cache import entries
from shipyard.cache import errors as cache_errors
from shipyard.core import errors
from shipyard.core.frozen import frozen

MANIFEST = "manifest.json"
FILE_MODE = 0o644
DIRECTORY_MODE = 0o755
_FORMAT = 1


class ArtifactError(errors.ExecutionError):
    """An artifact could not be saved or restored."""


class ArtifactExists(ArtifactError):
    """An artifact of that name already exists in this run."""


class ArtifactNotFound(ArtifactError):
    """No artifact of that name exists in this run."""


@frozen
class StoredFile:
    """One file of an artifact: its path inside the artifact (``/``-separated)."""

    path: str
    size: int
    sha256: str


@frozen
class Artifact:
    """A stored artifact, as its manifest describes it."""

    name: str
    id: int
    digest: str
    """SHA-256 (hex) over the sorted paths, sizes and file digests: same files, same digest."""
    size: int
    files: tuple[StoredFile, ...]
    location: Path
    retention_days: int | None = None

    @property
    def url(self) -> str:
        """A ``file://`` URL of the stored artifact."""
        return self.location.as_uri()


class ArtifactStore:
    """The artifacts of one run, stored under ``root``. Safe for concurrent jobs."""

    def __init__(self, root: Path, blobs: Path | None = None) -> None:
        """``root`` holds the run's manifests; ``blobs`` the content-addressed store (default:
        a private one beside the manifests)."""
        self.root = root
        # Not fsynced (like the job cache): every blob is verified when it is read back.
        self.index = entries.CacheIndex(
            blobs if blobs is not None else root / ".blobs", durable=False
        )

    def save_directory(
        self,
        name: str,
        directory: Path,
        files: Sequence[Path],
        *,
        overwrite: bool = False,
        retention_days: int | None = None,
    ) -> Artifact:
        """Store ``files`` (paths under ``directory``) as artifact ``name``.

        Paths inside the artifact are relative to ``directory``. An existing artifact of the
        same name is replaced when ``overwrite`` is true; otherwise ``ArtifactExists``.
        """
        _check_name(name)
        target = self.root / name
        if not overwrite and (target / MANIFEST).exists():
            raise ArtifactExists(f"an artifact named {name!r} already exists in this run")
        staging = self.root / ".staging" / os.urandom(16).hex()
        try:
            stored = [self._store_file(directory, file) for file in files]
            artifact = Artifact(
                name=name,
                id=self._next_id(),
                digest=_digest(stored),
                size=sum(item.size for item in stored),
                files=tuple(sorted(stored, key=lambda item: item.path)),
                location=target,
                retention_days=retention_days,
            )
            self._keep(artifact)
            _write_manifest(staging, artifact)
            self._publish(staging, target, name, overwrite=overwrite)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return artifact

    def adopt(self, name: str, files: Sequence[StoredFile], retention_days: int | None) -> Artifact:
        """Name files whose blobs are already in the store (a job replayed from the cache)."""
        _check_name(name)
        for item in files:
            if not self.index.store.has(item.sha256):
                raise ArtifactError(f"artifact {name!r}: the content of {item.path!r} is gone")
        staging = self.root / ".staging" / os.urandom(16).hex()
        try:
            artifact = Artifact(
                name=name,
                id=self._next_id(),
                digest=_digest(files),
                size=sum(item.size for item in files),
                files=tuple(sorted(files, key=lambda item: item.path)),
                location=self.root / name,
                retention_days=retention_days,
            )
            self._keep(artifact)
            _write_manifest(staging, artifact)
            self._publish(staging, self.root / name, name, overwrite=True)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return artifact

    def _store_file(self, directory: Path, file: Path) -> StoredFile:
        relative = PurePosixPath(file.relative_to(directory).as_posix())
        try:
            # upload-artifact follows symbolic links: store what the link points at.
            blob = self.index.store.put_file(os.path.realpath(file))
        except cache_errors.CacheError as error:
            raise ArtifactError(f"cannot store {relative}: {error.message}") from None
        return StoredFile(str(relative), blob.size, blob.digest)

    def _keep(self, artifact: Artifact) -> None:
        """Name the artifact in the store's index, so its blobs are not collected."""
        listing = json.dumps([item.path for item in artifact.files]).encode("utf-8")
        anchor = self.index.store.put_bytes(listing)
        run = self.root.parent.name
        try:
            self.index.put(
                "artifacts",
                f"{run}/{artifact.name}/{artifact.digest}",
                anchor.digest,
                artifact.size,
                metadata={"run": run, "name": artifact.name},
                refs=sorted({item.sha256 for item in artifact.files}),
            )
        except cache_errors.CacheError as error:
            raise ArtifactError(f"cannot record artifact {artifact.name!r}: {error}") from None

    def list(self) -> list[Artifact]:
        """Every complete artifact of the run, in upload order."""
        if not self.root.is_dir():
            return []
        found = []
        for entry in self.root.iterdir():
            if not entry.name.startswith(".") and (entry / MANIFEST).is_file():
                with contextlib.suppress(FileNotFoundError):  # replaced while we looked
                    found.append(_read_manifest(entry))
        return sorted(found, key=lambda artifact: artifact.id)

    def restore(self, name: str, destination: Path) -> Artifact:
        """Copy artifact ``name``'s files into ``destination`` (files 0644, directories 0755)."""
        location = self.root / name
        try:
            artifact = _read_manifest(location)
        except FileNotFoundError:
            raise ArtifactNotFound(f"no artifact named {name!r} in this run") from None
        _make_directory(destination)
        for item in artifact.files:
            self._copy_out(item, destination)
        return artifact

    def _copy_out(self, item: StoredFile, destination: Path) -> None:
        relative = PurePosixPath(item.path)
        if relative.is_absolute() or ".." in relative.parts:
            raise ArtifactError(f"artifact file path {item.path!r} points outside the artifact")
        target = destination.joinpath(*relative.parts)
        for parent in reversed(target.parents):
            if parent == destination or destination in parent.parents:
                _make_directory(parent)
        if target.is_symlink():
            target.unlink()  # write the file itself, never through a link somewhere else
        try:
            self.index.store.copy_to(item.sha256, target)
        except cache_errors.CacheError as error:
            raise ArtifactError(
                f"artifact file {item.path!r} cannot be restored: {error.message}"
            ) from None
        os.chmod(target, FILE_MODE)

    def _next_id(self) -> int:
        ids = self.root / ".ids"
        ids.mkdir(parents=True, exist_ok=True)
        candidate = len(os.listdir(ids)) + 1
        while True:
            try:
                (ids / str(candidate)).mkdir()
            except FileExistsError:
                candidate += 1
            else:
                return candidate

    def _publish(self, staging: Path, target: Path, name: str, *, overwrite: bool) -> None:
        trash = self.root / ".staging" / f"replaced-{os.urandom(16).hex()}"
        if overwrite and target.exists():
            target.rename(trash)
        try:
            staging.rename(target)
        except OSError:
            raise ArtifactExists(f"an artifact named {name!r} already exists in this run") from None
        finally:
            shutil.rmtree(trash, ignore_errors=True)


def _check_name(name: str) -> None:
    if not name or name in (".", "..") or name.startswith(".") or "/" in name or "\0" in name:
        raise ArtifactError(f"{name!r} cannot name an artifact")


def _make_directory(path: Path) -> None:
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, DIRECTORY_MODE)


def _digest(files: Sequence[StoredFile]) -> str:
    digest = hashlib.sha256()
    for item in sorted(files, key=lambda stored: stored.path):
        digest.update(f"{item.path}\0{item.size}\0{item.sha256}\n".encode())
    return digest.hexdigest()


def _write_manifest(staging: Path, artifact: Artifact) -> None:
    document = {
        "format": _FORMAT,
        "name": artifact.name,
        "id": artifact.id,
        "digest": artifact.digest,
        "size": artifact.size,
        "retention_days": artifact.retention_days,
        "files": [
            {"path": item.path, "size": item.size, "sha256": item.sha256} for item in artifact.files
        ],
    }
    staging.mkdir(parents=True, exist_ok=True)
    temporary = staging / f".{MANIFEST}.tmp"
    temporary.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    temporary.rename(staging / MANIFEST)


def _read_manifest(location: Path) -> Artifact:
    document = json.loads((location / MANIFEST).read_text(encoding="utf-8"))
    return Artifact(
        name=document["name"],
        id=document["id"],
        digest=document["digest"],
        size=document["size"],
        files=tuple(
            StoredFile(item["path"], item["size"], item["sha256"]) for item in document["files"]
        ),
        location=location,
        retention_days=document.get("retention_days"),
    )
