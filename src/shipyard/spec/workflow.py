"""Typed, validated models of a GitHub Actions workflow file. Pure: no I/O.

The loader (``shipyard.spec.workflow_loader``) builds these from YAML after validating every key;
the planner and runner read them and never see a raw dict parsed from YAML. Values that may hold
``${{ }}`` expressions stay strings here: they are evaluated when the run knows its contexts.
Every object keeps ``source``, the location of itself (key ``""``) and of each of its keys, so an
error found at run time still points at file:line:col.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from typing import Literal, TypeAlias

from shipyard.core import errors
from shipyard.core.frozen import frozen

# A plain value as YAML gives it (after validation): with:, matrix values, event filters.
Scalar: TypeAlias = str | int | float | bool | None
Value: TypeAlias = Scalar | list["Value"] | dict[str, "Value"]


@frozen
class SourceMap:
    """Where an object and each of its keys sit in the file.

    ``key_path`` is the object's own path (``jobs.test.steps[2]``); ``locations`` maps a key below
    it (``"if"``, ``"with.python-version"``) to the position of its value, and ``""`` to the object.
    """

    file: str
    key_path: str
    locations: Mapping[str, errors.SourceLocation] = field(default_factory=dict)

    def where(self, key: str = "") -> errors.SourceLocation:
        """The location of ``key``'s value, falling back to the object's own location."""
        found = self.locations.get(key) or self.locations.get("")
        return found if found is not None else errors.SourceLocation(self.file, 1, 1)

    def path_of(self, key: str = "") -> str:
        """The full key path of ``key``: ``jobs.test.steps[2].with.python-version``."""
        if not key:
            return self.key_path
        return f"{self.key_path}.{key}" if self.key_path else key


@frozen
class InputSpec:
    """An input of ``workflow_dispatch`` or ``workflow_call``."""

    name: str
    type: Literal["string", "boolean", "number", "choice", "environment"]
    required: bool = False
    description: str | None = None
    default: Value = None
    options: tuple[str, ...] = ()


@frozen
class CallOutput:
    """An output of a reusable workflow: ``value`` is an expression over ``jobs``."""

    name: str
    value: str
    description: str | None = None


@frozen
class CallSecret:
    """A secret a reusable workflow declares."""

    name: str
    required: bool = False
    description: str | None = None


@frozen
class WorkflowCall:
    """The ``on.workflow_call`` interface of a reusable workflow."""

    inputs: Mapping[str, InputSpec] = field(default_factory=dict)
    outputs: Mapping[str, CallOutput] = field(default_factory=dict)
    secrets: Mapping[str, CallSecret] = field(default_factory=dict)


@frozen
class Triggers:
    """The ``on:`` section.

    ``events`` maps every event name to its filters as written (``branches``, ``paths``, ``types``
    ...; empty when the event has none). The typed parts the runner needs are pulled out.
    """

    events: Mapping[str, Mapping[str, Value]]
    dispatch_inputs: Mapping[str, InputSpec] = field(default_factory=dict)
    workflow_call: WorkflowCall | None = None
    schedules: tuple[str, ...] = ()


@frozen
class RunDefaults:
    """``defaults.run`` of a workflow or a job."""

    shell: str | None = None
    working_directory: str | None = None


@frozen
class Concurrency:
    """A concurrency group; ``group`` and ``cancel_in_progress`` may hold expressions."""

    group: str
    cancel_in_progress: bool | str = False


@frozen
class Environment:
    """A job's deployment ``environment``: a name and an optional URL (both may be expressions)."""

    name: str
    url: str | None = None


@frozen
class Matrix:
    """``strategy.matrix`` as written.

    Each of ``dimensions``, ``include`` and ``exclude`` is either literal (lists of values) or one
    ``${{ }}`` expression string (``fromJSON(...)``), which the planner evaluates. ``expression`` is
    set when the whole matrix is a single expression.
    """

    dimensions: Mapping[str, list[Value] | str] = field(default_factory=dict)
    include: list[dict[str, Value]] | str = field(default_factory=list)
    exclude: list[dict[str, Value]] | str = field(default_factory=list)
    expression: str | None = None


@frozen
class Strategy:
    """``strategy``: the matrix and how its combinations run."""

    matrix: Matrix
    fail_fast: bool | str = True
    max_parallel: int | str | None = None


@frozen
class CacheSettings:
    """``x-shipyard.cache``: whether and on what the job cache may replay a job."""

    enabled: bool = True
    inputs: tuple[str, ...] = ()
    """Globs of repository files that decide a rerun; empty means the whole commit."""
    secrets: bool = False
    """Cache the job although it uses secrets (their values are hashed, never stored)."""


@frozen
class Extensions:
    """``x-shipyard:``: Shipyard's own settings, which GitHub never sees."""

    cache: CacheSettings | None = None


@frozen
class Step:
    """One step of a job: either ``run`` a command or ``uses`` an action (never both)."""

    index: int
    source: SourceMap
    id: str | None = None
    name: str | None = None
    if_: str | None = None
    run: str | None = None
    uses: str | None = None
    with_: Mapping[str, Value] = field(default_factory=dict)
    env: Mapping[str, Value] = field(default_factory=dict)
    shell: str | None = None
    working_directory: str | None = None
    continue_on_error: bool | str = False
    timeout_minutes: float | str | None = None


@frozen
class Job:
    """A job: its steps, or a call of a reusable workflow (``uses``)."""

    id: str
    source: SourceMap
    name: str | None = None
    needs: tuple[str, ...] = ()
    if_: str | None = None
    runs_on: Value = None
    strategy: Strategy | None = None
    continue_on_error: bool | str = False
    timeout_minutes: float | str = 360
    outputs: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, Value] = field(default_factory=dict)
    defaults: RunDefaults = field(default_factory=RunDefaults)
    environment: Environment | None = None
    concurrency: Concurrency | None = None
    permissions: Permissions | None = None
    steps: tuple[Step, ...] = ()
    uses: str | None = None
    with_: Mapping[str, Value] = field(default_factory=dict)
    secrets: Mapping[str, str] | Literal["inherit"] | None = None
    x_shipyard: Extensions = field(default_factory=Extensions)


# `read-all`, `write-all`, or scope -> `read` | `write` | `none`; `{}` means no permissions.
Permissions: TypeAlias = Literal["read-all", "write-all"] | Mapping[str, str]


@frozen
class Workflow:
    """One workflow file, validated."""

    path: str
    source: SourceMap
    on: Triggers
    jobs: Mapping[str, Job]
    name: str | None = None
    run_name: str | None = None
    env: Mapping[str, Value] = field(default_factory=dict)
    defaults: RunDefaults = field(default_factory=RunDefaults)
    concurrency: Concurrency | None = None
    permissions: Permissions | None = None
    x_shipyard: Extensions = field(default_factory=Extensions)

    @property
    def display_name(self) -> str:
        """The workflow's ``name``, or its path as GitHub shows an unnamed workflow."""
        return self.name or self.path
