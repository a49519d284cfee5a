"""How a run looks on the terminal: live lines prefixed by job, and a one-line progress view.

On a terminal, groups (``::group::``) fold to their title, and a status line at the bottom shows
what is running; elsewhere (CI logs, pipes) every line is printed plainly. Either way the full logs
are in the run directory. Lines arrive already masked.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from shipyard.pipeline.run import events

_COLORS = {"success": "32", "failure": "31", "cancelled": "33", "skipped": "90"}
_SYMBOLS = {"success": "✓", "failure": "✗", "cancelled": "⊘", "skipped": "-"}


class TerminalView:
    """An observer printing a run for people."""

    def __init__(self, stream: TextIO | None = None, *, interactive: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self._running: dict[str, str] = {}
        self._finished = 0
        self._failed = 0
        self._group_depth: dict[tuple[str, int | None], int] = {}
        self._status_shown = False
        self._last_status = 0.0

    # -- drawing ----------------------------------------------------------------------------

    def _color(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.interactive else text

    def _write(self, line: str) -> None:
        if self._status_shown:
            self.stream.write("\r\033[2K")
            self._status_shown = False
        self.stream.write(line + "\n")
        self._draw_status()

    def _draw_status(self, force: bool = False) -> None:
        if not self.interactive or not self._running:
            self.stream.flush()
            return
        now = time.monotonic()
        if not force and now - self._last_status < 0.05 and self._status_shown:
            return
        self._last_status = now
        names = ", ".join(list(self._running.values())[:3])
        more = len(self._running) - 3
        if more > 0:
            names += f" +{more}"
        status = f"▶ {len(self._running)} running ({names}) · {self._finished} done"
        if self._failed:
            status += f" · {self._failed} failed"
        width = 120
        self.stream.write("\r\033[2K" + self._color("2", status[:width]))
        self._status_shown = True
        self.stream.flush()

    def _prefix(self, job: events.JobRef) -> str:
        return self._color("36", f"[{job.name}]") if job.name else ""

    # -- events -----------------------------------------------------------------------------

    def notify(self, event: events.Event) -> None:
        if isinstance(event, events.RunStarted):
            self._write(
                self._color("1", f"Run {event.run_id}: {event.run_name} ({event.event_name})")
            )
        elif isinstance(event, events.JobStarted):
            self._running[event.job.key] = event.job.name
            self._write(f"{self._prefix(event.job)} started")
        elif isinstance(event, events.StepStarted):
            self._write(f"{self._prefix(event.job)} {self._color('1', '▸ ' + event.name)}")
        elif isinstance(event, events.LogLine):
            self._log(event)
        elif isinstance(event, events.StepFinished):
            self._step_finished(event)
        elif isinstance(event, events.JobFinished):
            self._job_finished(event)
        elif isinstance(event, events.RunFinished):
            symbol = _SYMBOLS.get(event.conclusion, "?")
            text = f"{symbol} run {event.conclusion} in {event.duration:.2f}s"
            self._running.clear()
            self._write(self._color(_COLORS.get(event.conclusion, "0"), text))

    def _log(self, event: events.LogLine) -> None:
        key = (event.job.key, event.step_index)
        depth = self._group_depth.get(key, 0)
        prefix = self._prefix(event.job)
        if event.kind == "group-start":
            self._group_depth[key] = depth + 1
            self._write(f"{prefix}   {self._color('1', '▾ ' + event.text)}")
            return
        if event.kind == "group-end":
            self._group_depth[key] = max(0, depth - 1)
            return
        if depth and self.interactive:
            return  # folded: the title was shown, the lines are in the log file
        indent = "     " if depth else "   "
        text = self._color("2", event.text) if event.kind == "runner" else event.text
        self._write(f"{prefix}{indent}{text}")

    def _step_finished(self, event: events.StepFinished) -> None:
        if event.outcome == "skipped":
            self._write(f"{self._prefix(event.job)} {self._color('90', '- ' + event.name)} skipped")
            return
        symbol = _SYMBOLS.get(event.outcome, "?")
        text = f"{symbol} {event.name} ({event.duration:.2f}s)"
        if event.outcome != event.conclusion:
            text += f" {event.outcome}, continuing"
        self._write(f"{self._prefix(event.job)} {self._color(_COLORS[event.outcome], text)}")

    def _job_finished(self, event: events.JobFinished) -> None:
        self._running.pop(event.job.key, None)
        self._finished += 1
        if event.conclusion == "failure":
            self._failed += 1
        symbol = _SYMBOLS.get(event.conclusion, "?")
        took = "cached" if event.cached else f"{event.duration:.2f}s"
        text = f"{symbol} job {event.conclusion} ({took})"
        self._write(f"{self._prefix(event.job)} {self._color(_COLORS[event.conclusion], text)}")
