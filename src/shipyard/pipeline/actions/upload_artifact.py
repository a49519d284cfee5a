"""Built-in ``actions/upload-artifact``, with the semantics of v4 (v4.4 and later).

Stores the files that ``path`` matches in the run's ``ArtifactStore`` under ``name``. ``path``
is one or more glob patterns with ``!`` exclusions (see ``_glob``); inside the artifact, files
keep their paths relative to the least common ancestor of the patterns' search paths, or to the
file's own directory when a single file is named, exactly as v4 lays out its zip. Hidden files
are left out unless ``include-hidden-files`` is true. An artifact is immutable: uploading a name
that already exists in the run fails unless ``overwrite`` is true.

Deviations: nothing is compressed (``compression-level`` is validated, then has no effect);
``retention-days`` is recorded but nothing expires yet; ``artifact-url`` is a ``file://`` URL of
the stored artifact and ``artifact-digest`` a SHA-256 over the files rather than over a zip.
This action never reads or writes outside the matched files and the run's artifact directory.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path

from shipyard.core.frozen import frozen
from shipyard.pipeline import artifacts
from shipyard.pipeline.actions import _glob, _inputs, _process, interface

# Characters @actions/artifact refuses in names and file paths (NTFS cannot hold them).
_INVALID_IN_PATHS = {
    '"': "Double quote",
    ":": "Colon",
    "<": "Less than",
    ">": "Greater than",
    "|": "Vertical bar",
    "*": "Asterisk",
    "?": "Question mark",
    "\r": "Carriage return",
    "\n": "Line feed",
}
_INVALID_IN_NAMES = {**_INVALID_IN_PATHS, "\\": "Backslash", "/": "Forward slash"}
_NO_FILES_CHOICES = ("warn", "error", "ignore")


@frozen
class UploadRequest:
    """The validated inputs."""

    name: str
    path: str
    if_no_files_found: str
    retention_days: int | None
    overwrite: bool
    include_hidden_files: bool


class UploadArtifact:
    """``actions/upload-artifact``: save files to the run's artifact store."""

    names: tuple[str, ...] = ("actions/upload-artifact",)

    async def run(self, call: interface.ActionCall, io: interface.ActionIO) -> None:
        request = read_request(call, io)
        try:
            patterns = _glob.parse(request.path, cwd=call.workspace, home=_process.home(call.env))
        except _glob.PatternError as error:
            raise interface.ActionFailed(f"input `path`: {error}") from None
        found = await asyncio.to_thread(
            _glob.find, patterns, include_hidden=request.include_hidden_files
        )
        files = [path for path in found if not os.path.isdir(path)]
        if not files:
            _report_no_files(request, io)
            return
        root = root_directory(patterns, files)
        _check_file_paths(root, files, io)
        plural = "" if len(files) == 1 else "s"
        io.log(f"With the provided path, there will be {len(files)} file{plural} uploaded")
        io.log(f"Root directory of the artifact is {root}")
        store = artifacts.ArtifactStore(call.artifacts, call.cache_root)
        try:
            artifact = await asyncio.to_thread(
                store.save_directory,
                request.name,
                root,
                files,
                overwrite=request.overwrite,
                retention_days=request.retention_days,
            )
        except artifacts.ArtifactExists as error:
            raise interface.ActionFailed(
                f"{error.message}; artifacts are immutable",
                hint="give each upload its own name (in a matrix, add the matrix values to "
                "it), or set `overwrite: true` to replace the earlier one",
            ) from None
        except (artifacts.ArtifactError, OSError) as error:
            raise interface.ActionFailed(
                f"cannot store artifact {request.name!r}: {error}"
            ) from None
        io.set_output("artifact-id", str(artifact.id))
        io.set_output("artifact-url", artifact.url)
        io.set_output("artifact-digest", artifact.digest)
        io.log(f"SHA256 digest of the uploaded artifact is {artifact.digest}")
        io.log(
            f"Artifact {artifact.name} has been successfully uploaded! "
            f"Final size is {artifact.size} bytes. Artifact ID is {artifact.id}"
        )
        io.log(f"Artifact download URL: {artifact.url}")


def read_request(call: interface.ActionCall, io: interface.ActionIO) -> UploadRequest:
    """Validate the inputs as upload-artifact@v4 does."""
    name = call.input("name", "artifact")
    for character, description in _INVALID_IN_NAMES.items():
        if character in name:
            raise interface.ActionFailed(
                f"The artifact name is not valid: {name!r}. "
                f"Contains the following character: {description} {character!r}",
                hint="these characters are not allowed in artifact names: "
                + " ".join(repr(char) for char in _INVALID_IN_NAMES),
            )
    if name.startswith("."):
        raise interface.ActionFailed(
            f"The artifact name is not valid: {name!r}. Shipyard's artifact names cannot "
            "start with '.'"
        )
    path = call.input("path")
    if not path.strip():
        raise interface.ActionFailed("Input required and not supplied: path")
    if_no_files_found = call.input("if-no-files-found", "warn")
    if if_no_files_found not in _NO_FILES_CHOICES:
        raise interface.ActionFailed(
            f"Unrecognized if-no-files-found input. Provided: {if_no_files_found}. "
            f"Available options: {', '.join(_NO_FILES_CHOICES)}"
        )
    compression = _inputs.integer(call, "compression-level", None)
    if compression is not None and not 0 <= compression <= 9:
        raise interface.ActionFailed("Invalid compression-level. Valid values are 0-9")
    return UploadRequest(
        name=name,
        path=path,
        if_no_files_found=if_no_files_found,
        retention_days=_retention_days(call, io),
        overwrite=_inputs.boolean(call, "overwrite", False),
        include_hidden_files=_inputs.boolean(call, "include-hidden-files", False),
    )


def root_directory(patterns: Sequence[_glob.Pattern], files: Sequence[Path]) -> Path:
    """Where paths inside the artifact start, as upload-artifact@v4 decides it."""
    searched = _glob.search_paths(patterns)
    if len(searched) > 1:
        common = os.path.commonpath([str(path) for path in searched])
        return Path(common)
    if len(files) == 1 and searched[0] == files[0]:
        return files[0].parent
    return searched[0]


def _retention_days(call: interface.ActionCall, io: interface.ActionIO) -> int | None:
    days = _inputs.integer(call, "retention-days", None)
    if not days:
        return None
    maximum = call.env.get("GITHUB_RETENTION_DAYS", "")
    if maximum.isdigit() and 0 < int(maximum) < days:
        io.warning(
            "Retention days cannot be greater than the maximum allowed retention set within "
            f"the repository. Using {maximum} instead."
        )
        return int(maximum)
    return days


def _report_no_files(request: UploadRequest, io: interface.ActionIO) -> None:
    message = (
        f"No files were found with the provided path: {request.path.strip()}. "
        "No artifacts will be uploaded."
    )
    if request.if_no_files_found == "error":
        raise interface.ActionFailed(message)
    if request.if_no_files_found == "warn":
        io.warning(message)
    else:
        io.log(message)


def _check_file_paths(root: Path, files: Sequence[Path], io: interface.ActionIO) -> None:
    seen: set[str] = set()
    for file in files:
        relative = file.relative_to(root).as_posix()
        for character, description in _INVALID_IN_PATHS.items():
            if character in relative:
                raise interface.ActionFailed(
                    f"The path for one of the files in artifact is not valid: {relative}. "
                    f"Contains the following character: {description} {character!r}",
                    hint="rename the file, or leave it out with a `!` pattern",
                )
        if relative.lower() in seen:
            io.log(
                f"Uploads are case insensitive: {file} was detected that it will be "
                "overwritten by another file with the same path"
            )
        seen.add(relative.lower())
