"""An observer that writes each step's log to its own file under the run directory.

Files: ``logs/<job>/<n>_<step>.txt`` plus ``logs/<job>/job.txt`` for lines outside steps. Lines
arrive already masked, so nothing secret reaches the disk.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import IO

from shipyard.pipeline.run import events


def _slug(text: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in text)
    return "-".join(part for part in cleaned.split("-") if part)[:60] or "step"


class LogFiles:
    """Writes step logs; closes each file when its step finishes."""

    def __init__(self, run_dir: Path) -> None:
        self.root = run_dir / "logs"
        self._open: dict[tuple[str, int | None], IO[str]] = {}
        self._names: dict[tuple[str, int | None], str] = {}
        self.paths: dict[tuple[str, int], Path] = {}

    def notify(self, event: events.Event) -> None:
        if isinstance(event, events.StepStarted):
            self._names[(event.job.key, event.index)] = event.name
        elif isinstance(event, events.LogLine):
            handle = self._handle(event.job, event.step_index)
            stamp = time.strftime("%H:%M:%S")
            prefix = {"group-start": "##[group]", "group-end": "##[endgroup]"}.get(event.kind, "")
            handle.write(f"{stamp} {prefix}{event.text}\n")
        elif isinstance(event, events.StepFinished):
            key = (event.job.key, event.index)
            if key in self._open:
                self._open.pop(key).close()
        elif isinstance(event, events.JobFinished):
            job_handle = self._open.pop((event.job.key, None), None)
            if job_handle is not None:
                job_handle.close()
        elif isinstance(event, events.RunFinished):
            for handle in self._open.values():
                handle.close()
            self._open.clear()

    def _handle(self, job: events.JobRef, index: int | None) -> IO[str]:
        key = (job.key, index)
        handle = self._open.get(key)
        if handle is None:
            directory = self.root / _slug(job.key)
            directory.mkdir(parents=True, exist_ok=True)
            if index is None:
                path = directory / "job.txt"
            else:
                path = directory / f"{index + 1:02d}_{_slug(self._names.get(key, 'step'))}.txt"
                self.paths[(job.key, index)] = path
            handle = path.open("a", encoding="utf-8")
            self._open[key] = handle
        return handle
