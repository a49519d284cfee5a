"""Built-in ``actions/download-artifact``, with the semantics of v4.

Restores artifacts of the current run from its ``ArtifactStore``. With ``name``, that one
artifact's files go straight into ``path``; without it, every artifact (or those whose names
match ``pattern``, or whose ids are listed in ``artifact-ids``) goes into its own
``path/<name>/`` directory, or all into ``path`` when ``merge-multiple`` is true. ``path``
defaults to the workspace and may start with ``~``. Restored files get mode 0644 and directories
0755, as after a v4 download (a zip keeps no permissions).

Deviations: only this run's artifacts exist offline, so with ``github-token``, a ``run-id`` of
another run or another ``repository`` fails with an explanation (without a token v4 ignores
both, and so does this); ``download-path`` is set even when a pattern matched nothing.
This action never writes outside ``path``.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from shipyard.pipeline import artifacts
from shipyard.pipeline.actions import _glob, _inputs, _process, interface


class DownloadArtifact:
    """``actions/download-artifact``: restore artifacts of this run into the workspace."""

    names: tuple[str, ...] = ("actions/download-artifact",)

    async def run(self, call: interface.ActionCall, io: interface.ActionIO) -> None:
        _refuse_other_runs(call)
        destination = download_path(call)
        name = call.input("name")
        ids = [part.strip() for part in call.input("artifact-ids").split(",") if part.strip()]
        if name and ids:
            raise interface.ActionFailed(
                "Inputs 'name' and 'artifact-ids' cannot be used together. Please specify only one."
            )
        merge = _inputs.boolean(call, "merge-multiple", False)
        store = artifacts.ArtifactStore(call.artifacts, call.cache_root)
        stored = await asyncio.to_thread(store.list)
        if name:
            chosen = [artifact for artifact in stored if artifact.name == name]
            if not chosen:
                raise _not_found(f"Artifact '{name}' not found", stored)
        else:
            chosen = _select(call, io, stored, ids, merge)
        if chosen:
            io.log("Preparing to download the following artifacts:")
            for artifact in chosen:
                io.log(f"- {artifact.name} (ID: {artifact.id}, Size: {artifact.size})")
        single = bool(name)
        for artifact in chosen:
            target = destination if single or merge else destination / artifact.name
            try:
                await asyncio.to_thread(store.restore, artifact.name, target)
            except (artifacts.ArtifactError, OSError) as error:
                raise interface.ActionFailed(
                    f"Unable to download artifact(s): {artifact.name}: {error}"
                ) from None
        io.log(f"Total of {len(chosen)} artifact(s) downloaded")
        io.set_output("download-path", str(destination))
        io.log("Download artifact has finished successfully")


def download_path(call: interface.ActionCall) -> Path:
    """The ``path`` input resolved as v4 does: ``~`` expanded, relative to the workspace."""
    raw = call.input("path")
    if not raw:
        return call.workspace
    if raw.startswith("~"):
        raw = str(_process.home(call.env)) + raw[1:]
    return Path(os.path.normpath(call.workspace / raw))


def _select(
    call: interface.ActionCall,
    io: interface.ActionIO,
    stored: list[artifacts.Artifact],
    ids: list[str],
    merge: bool,
) -> list[artifacts.Artifact]:
    if ids:
        wanted = set(ids)
        chosen = [artifact for artifact in stored if str(artifact.id) in wanted]
        missing = wanted - {str(artifact.id) for artifact in chosen}
        if missing:
            raise _not_found(f"Artifact ID(s) not found: {', '.join(sorted(missing))}", stored)
        return chosen
    pattern = call.input("pattern")
    if pattern:
        io.log(f"Filtering artifacts by pattern '{pattern}'")
        return [artifact for artifact in stored if _glob.match_name(pattern, artifact.name)]
    io.log("No input name or pattern filtered specified, downloading all artifacts")
    if not merge:
        io.log("An extra directory with the artifact name will be created for each download")
    return stored


def _not_found(message: str, stored: list[artifacts.Artifact]) -> interface.ActionFailed:
    if stored:
        listed = ", ".join(f"{artifact.name} (ID {artifact.id})" for artifact in stored)
        hint = f"artifacts in this run: {listed}"
    else:
        hint = "no artifact has been uploaded in this run yet; a job that downloads one must "
        hint += "`needs:` the job that uploads it"
    return interface.ActionFailed(f"Unable to download artifact(s): {message}", hint=hint)


def _refuse_other_runs(call: interface.ActionCall) -> None:
    """v4 looks at ``run-id`` and ``repository`` only when ``github-token`` is given."""
    if not call.input("github-token"):
        return
    run_id = call.input("run-id")
    if run_id and run_id != call.env.get("GITHUB_RUN_ID", run_id):
        raise interface.ActionFailed(
            f"input `run-id` ({run_id}): only artifacts of the current run can be downloaded "
            "offline",
            hint="remove `github-token` and `run-id`, or fetch the artifact from GitHub in a "
            "`run:` step",
        )
    repository = call.input("repository")
    if repository and repository.lower() != call.repository.name.lower():
        raise interface.ActionFailed(
            f"input `repository` ({repository}): only artifacts of {call.repository.name} "
            "(this run) can be downloaded offline",
            hint="remove `github-token` and `repository`, or fetch the artifact from GitHub in a "
            "`run:` step",
        )
