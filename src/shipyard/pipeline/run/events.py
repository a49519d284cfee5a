"""What a run tells the world while it happens: events, and the observers that receive them.

The runner never prints. It emits these events in order; the terminal view, the log files and the
JSON report each subscribe. Every text in an event has already been masked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import field
from typing import Any, Literal, Protocol

from shipyard.core.frozen import frozen

Conclusion = Literal["success", "failure", "cancelled", "skipped"]
LogKind = Literal["output", "group-start", "group-end", "debug", "runner"]


@frozen
class JobRef:
    """Which job instance an event is about: ``key`` is unique within the run."""

    key: str
    id: str
    name: str
    matrix: Mapping[str, Any] | None = None


@frozen
class RunStarted:
    run_id: str
    workflow: str
    workflow_path: str
    event_name: str
    run_dir: str
    run_name: str = ""


@frozen
class JobStarted:
    job: JobRef


@frozen
class StepStarted:
    job: JobRef
    index: int
    name: str
    step_id: str


@frozen
class LogLine:
    """One line of output. ``kind`` tells views how to show it (groups may be folded)."""

    job: JobRef
    step_index: int | None
    text: str
    kind: LogKind = "output"


@frozen
class AnnotationAdded:
    job: JobRef
    step_index: int | None
    level: Literal["error", "warning", "notice", "debug"]
    message: str
    file: str | None = None
    line: int | None = None
    end_line: int | None = None
    column: int | None = None
    end_column: int | None = None
    title: str | None = None


@frozen
class StepFinished:
    job: JobRef
    index: int
    name: str
    step_id: str
    outcome: Conclusion
    conclusion: Conclusion
    duration: float
    log_path: str | None = None


@frozen
class JobFinished:
    job: JobRef
    conclusion: Conclusion
    outputs: Mapping[str, str]
    duration: float
    summary: str = ""
    environment: Mapping[str, str] | None = None
    cached: bool = False
    """Replayed from the job cache instead of run."""


@frozen
class RunFinished:
    conclusion: Conclusion
    duration: float
    jobs: Sequence[JobRef] = field(default_factory=tuple)


Event = (
    RunStarted
    | JobStarted
    | StepStarted
    | LogLine
    | AnnotationAdded
    | StepFinished
    | JobFinished
    | RunFinished
)


class Observer(Protocol):
    """Anything that wants to know how a run goes."""

    def notify(self, event: Event) -> None:
        """Receive one event; must be quick and must not raise."""


class Broadcaster:
    """Hands every event to every observer, in subscription order."""

    def __init__(self, observers: Sequence[Observer] = ()) -> None:
        self._observers = list(observers)

    def subscribe(self, observer: Observer) -> None:
        self._observers.append(observer)

    def notify(self, event: Event) -> None:
        for observer in self._observers:
            observer.notify(event)
