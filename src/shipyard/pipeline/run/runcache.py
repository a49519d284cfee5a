"""Replaying a whole run: the fast path of a rerun of an unchanged commit.

When every job of a run succeeded and sits in the job cache, the run itself is recorded under a
key of everything the run was given: the workflow file, the commit's tree, the event, inputs,
variables, env files, secrets (hashed), the job and matrix selection, the label map, this
machine's toolchain and Shipyard's version. A later run with the same key replays the recorded
report — logs and artifacts restored into a new run directory, every job marked cached —
without loading the workflow, the expression language or the scheduler, so a no-op rerun costs
little more than starting Python. Any difference in the key falls back to the normal run, where
the job cache still replays each unchanged job.

This module imports only what that fast path needs.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import shipyard
from shipyard.cache import entries, snapshots
from shipyard.cache import errors as cache_errors
from shipyard.core.frozen import frozen
from shipyard.pipeline import artifacts
from shipyard.pipeline.run import toolchain

NAMESPACE = "runs"


@frozen
class RunKey:
    digest: str


def compute(
    *,
    workflow_path: str,
    workflow_text: str,
    tree: str,
    flags: Mapping[str, Any],
    secret_values: Mapping[str, str],
) -> RunKey:
    """The key of a run: the workflow, the commit's tree and every flag that shapes the run."""
    document = {
        "workflow": workflow_path,
        "text": hashlib.sha256(workflow_text.encode("utf-8")).hexdigest(),
        "tree": tree,
        "flags": flags,
        "secrets": hashlib.sha256(
            json.dumps(sorted(secret_values.items())).encode("utf-8")
        ).hexdigest(),
        "tools": toolchain.digest(),
        "shipyard": shipyard.__version__,
    }
    text = json.dumps(document, sort_keys=True, default=str)
    return RunKey(hashlib.sha256(text.encode("utf-8")).hexdigest())


def _index(home: Path) -> entries.CacheIndex:
    return entries.CacheIndex(home / "cache", durable=False)


def record(home: Path, key: RunKey, report: Mapping[str, Any]) -> None:
    """Remember a replayable run (its report says so); best effort, never raises."""
    if not report.get("replayable"):
        return
    run_dir = Path(report["run_dir"])
    try:
        index = _index(home)
        logs_dir = run_dir / "logs"
        logs_dir.mkdir(parents=True, exist_ok=True)
        logs = snapshots.save_tree(index.store, logs_dir, [logs_dir], use_stat_cache=False)
        store = artifacts.ArtifactStore(run_dir / "artifacts", home / "cache")
        listed = store.list()
        recorded_artifacts = [
            {
                "name": item.name,
                "retention_days": item.retention_days,
                "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in item.files],
            }
            for item in listed
        ]
        refs = sorted({f.sha256 for item in listed for f in item.files})
        metadata = {"report": dict(report), "artifacts": recorded_artifacts}
        index.put(NAMESPACE, key.digest, logs.digest, logs.size, metadata=metadata, refs=refs)
    except (cache_errors.CacheError, artifacts.ArtifactError, OSError):
        return


def replay(home: Path, key: RunKey) -> dict[str, Any] | None:
    """Replay a recorded run into a new run directory; its report, or None on a miss."""
    try:
        index = _index(home)
        entry = index.get(NAMESPACE, key.digest)
        if entry is None or not isinstance(entry.metadata, dict):
            return None
        started = time.monotonic()
        run_id = f"{int(time.time() * 1000)}{secrets.randbelow(1000):03d}"
        run_dir = home / "runs" / run_id
        snapshots.restore_tree(index.store, entry.digest, run_dir / "logs")
        store = artifacts.ArtifactStore(run_dir / "artifacts", home / "cache")
        for item in entry.metadata.get("artifacts", []):
            files = [artifacts.StoredFile(f["path"], f["size"], f["sha256"]) for f in item["files"]]
            store.adopt(item["name"], files, item.get("retention_days"))
    except (cache_errors.CacheError, artifacts.ArtifactError, OSError, KeyError, TypeError):
        return None
    report = dict(entry.metadata["report"])
    report.update(
        run_id=run_id,
        run_dir=str(run_dir),
        replayed_from=entry.metadata["report"].get("run_id"),
        duration=round(time.monotonic() - started, 4),
    )
    report["jobs"] = [_replayed_job(job) for job in report.get("jobs", [])]
    temporary = run_dir / "report.tmp"
    temporary.write_text(json.dumps(report) + "\n", encoding="utf-8")
    temporary.replace(run_dir / "report.json")
    return report


def _replayed_job(job: Mapping[str, Any]) -> dict[str, Any]:
    steps = [{**step, "duration": 0.0} for step in job.get("steps", [])]
    return {**job, "cached": True, "duration": 0.0, "steps": steps}
