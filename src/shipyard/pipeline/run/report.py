"""An observer that builds the JSON run report.

The stable core (documented in docs/running.md) is
``{"conclusion", "jobs": [{"id", "name", "matrix", "conclusion", "outputs",
"steps": [{"id", "name", "outcome", "conclusion"}]}]}``; the rest (durations, annotations, log
paths, the step summary) may grow.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shipyard.pipeline.run import events


class RunReport:
    """Collects events into the report; ``as_dict`` once the run has finished."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {"conclusion": None, "jobs": []}
        self._jobs: dict[str, dict[str, Any]] = {}
        self._step_logs: dict[tuple[str, int], str] = {}

    def notify(self, event: events.Event) -> None:
        if isinstance(event, events.RunStarted):
            self.data.update(
                run_id=event.run_id,
                run_name=event.run_name,
                workflow=event.workflow,
                workflow_path=event.workflow_path,
                event=event.event_name,
                run_dir=event.run_dir,
            )
        elif isinstance(event, events.JobStarted):
            self._job(event.job)
        elif isinstance(event, events.StepFinished):
            self._job(event.job)["steps"].append(
                {
                    "id": event.step_id,
                    "name": event.name,
                    "outcome": event.outcome,
                    "conclusion": event.conclusion,
                    "duration": round(event.duration, 4),
                }
            )
        elif isinstance(event, events.AnnotationAdded):
            entry: dict[str, Any] = {"level": event.level, "message": event.message}
            for key in ("file", "line", "end_line", "column", "end_column", "title"):
                value = getattr(event, key)
                if value is not None:
                    entry[key] = value
            self._job(event.job)["annotations"].append(entry)
        elif isinstance(event, events.JobFinished):
            job = self._job(event.job)
            job.update(
                conclusion=event.conclusion,
                outputs=dict(event.outputs),
                duration=round(event.duration, 4),
                summary=event.summary,
                cached=event.cached,
            )
            if event.environment is not None:
                job["environment"] = dict(event.environment)
        elif isinstance(event, events.RunFinished):
            self.data["conclusion"] = event.conclusion
            self.data["duration"] = round(event.duration, 4)

    def _job(self, ref: events.JobRef) -> dict[str, Any]:
        job = self._jobs.get(ref.key)
        if job is None:
            job = {
                "id": ref.id,
                "key": ref.key,
                "name": ref.name,
                "matrix": dict(ref.matrix) if ref.matrix is not None else None,
                "conclusion": None,
                "outputs": {},
                "steps": [],
                "annotations": [],
            }
            self._jobs[ref.key] = job
            self.data["jobs"].append(job)
        return job

    def as_dict(self) -> dict[str, Any]:
        return self.data

    def write(self, path: Path) -> None:
        temporary = path.with_suffix(".tmp")
        # Compact: json's C encoder only runs without indent (a 500-job report is large).
        temporary.write_text(json.dumps(self.data) + "\n", encoding="utf-8")
        temporary.replace(path)
