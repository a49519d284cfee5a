"""The job cache: a job whose inputs are unchanged is replayed instead of run.

After a job succeeds, its result — conclusion, outputs, step outcomes, annotations, step summary,
the artifacts it uploaded and its log files — is recorded in the content-addressed store under
the job's key (``jobcache_key``). When a later run computes the same key, the engine replays that
record: the same events, the logs restored into the new run directory, the artifacts put back in
the new run's artifact store, and the job marked ``cached`` in the report. Failed and cancelled
jobs are never recorded. ``explain`` says which input changed when a job that ran before misses.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import field
from pathlib import Path
from typing import Any

from shipyard.cache import entries, snapshots
from shipyard.cache import errors as cache_errors
from shipyard.core.frozen import record
from shipyard.pipeline import artifacts
from shipyard.pipeline.run import events, jobcache_key

NAMESPACE = "jobs"
LATEST = "jobs-latest"
"""The components of the newest recording of each job identity, for explaining misses."""

_COMPONENT_WORDS = {
    "definition": "the job's definition (steps, env, matrix values) changed",
    "files": "the files it can see changed",
    "values": "the run's env, vars, inputs or event changed",
    "secrets": "the secrets' values changed",
    "needs": "the outputs or results of the jobs it needs changed",
    "tools": "the tools on this machine changed",
    "shipyard": "Shipyard itself was upgraded",
}


class JobRecorder:
    """An observer keeping each job's step and annotation events until the job is recorded."""

    def __init__(self) -> None:
        self.steps: dict[str, list[events.StepFinished]] = {}
        self.annotations: dict[str, list[events.AnnotationAdded]] = {}

    def notify(self, event: events.Event) -> None:
        if isinstance(event, events.StepFinished):
            self.steps.setdefault(event.job.key, []).append(event)
        elif isinstance(event, events.AnnotationAdded):
            self.annotations.setdefault(event.job.key, []).append(event)

    def take(self, key: str) -> tuple[list[events.StepFinished], list[events.AnnotationAdded]]:
        return self.steps.pop(key, []), self.annotations.pop(key, [])


@record
class Replayed:
    """What a replay gives the engine: the job's outcome as recorded."""

    conclusion: events.Conclusion
    outputs: dict[str, str] = field(default_factory=dict)


class JobCache:
    """Records and replays jobs in the store under ``root``."""

    def __init__(self, root: Path) -> None:
        # Not fsynced: a record lost to a power cut is only a cache miss, and every blob is
        # verified when read, so a torn one is detected, never replayed.
        self.index = entries.CacheIndex(root, durable=False)

    # -- lookup and replay --------------------------------------------------------------------

    def lookup(self, key: jobcache_key.JobKey) -> entries.CacheEntry | None:
        try:
            return self.index.get(NAMESPACE, key.digest)
        except cache_errors.CacheError:
            return None

    def explain(self, key: jobcache_key.JobKey) -> str:
        """Why ``key`` missed: which inputs differ from the newest recording of the same job."""
        try:
            latest = self.index.get(LATEST, key.identity)
        except cache_errors.CacheError:
            latest = None
        if latest is None or not isinstance(latest.metadata, dict):
            return "never recorded before"
        before = latest.metadata.get("components", {})
        changed = [
            _COMPONENT_WORDS.get(name, name)
            for name, digest in key.components.items()
            if before.get(name) != digest
        ]
        if not changed:
            return "recorded, but its record was evicted or is incomplete"
        return "; ".join(changed)

    def replay(
        self,
        entry: entries.CacheEntry,
        ref: events.JobRef,
        broadcaster: events.Broadcaster,
        *,
        log_dir: Path,
        artifact_store: artifacts.ArtifactStore,
    ) -> Replayed | None:
        """Emit the recorded job's events; None when the record cannot be used."""
        record = entry.metadata if isinstance(entry.metadata, dict) else None
        if record is None:
            return None
        try:
            snapshots.restore_tree(self.index.store, entry.digest, log_dir)
            self._restore_artifacts(record.get("artifacts", {}), artifact_store)
        except (cache_errors.CacheError, artifacts.ArtifactError, OSError):
            return None
        broadcaster.notify(events.JobStarted(job=ref))
        broadcaster.notify(
            events.LogLine(
                job=ref,
                step_index=None,
                text=f"cached: replaying the result of run {record.get('run_id')} "
                f"(original log in {log_dir})",
                kind="runner",
            )
        )
        for step in record.get("steps", []):
            broadcaster.notify(
                events.StepFinished(
                    job=ref,
                    index=step["index"],
                    name=step["name"],
                    step_id=step["id"],
                    outcome=step["outcome"],
                    conclusion=step["conclusion"],
                    duration=0.0,
                )
            )
        for note in record.get("annotations", []):
            broadcaster.notify(events.AnnotationAdded(job=ref, step_index=None, **note))
        outputs = dict(record.get("outputs", {}))
        broadcaster.notify(
            events.JobFinished(
                job=ref,
                conclusion=record["conclusion"],
                outputs=outputs,
                duration=0.0,
                summary=record.get("summary", ""),
                cached=True,
            )
        )
        return Replayed(record["conclusion"], outputs)

    def _restore_artifacts(
        self, recorded: Mapping[str, Any], artifact_store: artifacts.ArtifactStore
    ) -> None:
        for name, item in recorded.items():
            files = [artifacts.StoredFile(f["path"], f["size"], f["sha256"]) for f in item["files"]]
            artifact_store.adopt(name, files, item.get("retention_days"))

    # -- recording ----------------------------------------------------------------------------

    def record(
        self,
        key: jobcache_key.JobKey,
        *,
        run_id: str,
        conclusion: events.Conclusion,
        outputs: Mapping[str, str],
        summary: str,
        steps: list[events.StepFinished],
        annotations: list[events.AnnotationAdded],
        log_dir: Path,
        uploaded: list[artifacts.Artifact],
    ) -> None:
        """Store a successful job's result under its key (best effort: a failure only warns)."""
        store = self.index.store
        log_dir.mkdir(parents=True, exist_ok=True)
        logs = snapshots.save_tree(store, log_dir, [log_dir], use_stat_cache=False)
        artifact_records = {}
        refs: list[str] = []
        for artifact in uploaded:
            artifact_records[artifact.name] = {
                "files": [
                    {"path": f.path, "size": f.size, "sha256": f.sha256} for f in artifact.files
                ],
                "retention_days": artifact.retention_days,
            }
            refs.extend(f.sha256 for f in artifact.files)
        metadata = {
            "run_id": run_id,
            "recorded": time.time(),
            "conclusion": conclusion,
            "outputs": dict(outputs),
            "summary": summary,
            "steps": [
                {
                    "index": step.index,
                    "name": step.name,
                    "id": step.step_id,
                    "outcome": step.outcome,
                    "conclusion": step.conclusion,
                }
                for step in steps
            ],
            "annotations": [_annotation(note) for note in annotations],
            "artifacts": artifact_records,
            "components": dict(key.components),
        }
        size = logs.size + sum(len(str(v)) for v in outputs.values())
        self.index.put(
            NAMESPACE, key.digest, logs.digest, size, metadata=metadata, refs=sorted(set(refs))
        )
        self.index.put(
            LATEST,
            key.identity,
            logs.digest,
            0,
            metadata={"components": dict(key.components), "key": key.digest},
        )

    def enforce_cap(self) -> None:
        """Evict least recently used entries when the cache is over its size cap (once a run:
        it reads every entry)."""
        try:
            self.index.enforce_cap()
        except cache_errors.CacheError:
            return


def _annotation(note: events.AnnotationAdded) -> dict[str, Any]:
    fields = ("level", "message", "file", "line", "end_line", "column", "end_column", "title")
    return {name: getattr(note, name) for name in fields}
