"""Shipyard's one exception tree. Pure: no I/O.

Every error a person can cause carries what is wrong, where (file:line:col and the key path
inside the file) and what to do about it. Only ``shipyard.cli`` and ``shipyard.server`` turn these
into exit codes or HTTP responses; everything else raises them.

    ShipyardError
     ├── UserError                 the person can fix it; the CLI exits 2
     │    ├── SpecError            a file (workflow, shipyard.yaml, ...) is invalid
     │    │    └── SpecErrors      several SpecErrors found in one pass
     │    └── UsageError           a command line is invalid
     ├── ExpressionError           (shipyard.expressions) lexing, parsing or evaluating ${{ }}
     └── ExecutionError            running something failed for a reason outside a job's own steps
          ├── ActionNotAvailable   a `uses:` action cannot be run on this machine
          └── Cancelled            a run or step was cancelled (Ctrl-C, timeout)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from shipyard.core.frozen import frozen


@frozen
class SourceLocation:
    """A point in a file: 1-based line and column, as editors count them."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class ShipyardError(Exception):
    """Root of every error Shipyard raises on purpose.

    ``message`` says what is wrong, ``location`` where it is in a file, ``key_path`` which key
    (``jobs.test.steps[2].with.python-version``) and ``hint`` what to do.
    """

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        location: SourceLocation | None = None,
        key_path: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.key_path = key_path
        self.hint = hint

    def headline(self) -> str:
        """One line: ``file:line:col: key.path: message``."""
        parts = []
        if self.location is not None:
            parts.append(str(self.location))
        if self.key_path:
            parts.append(self.key_path)
        parts.append(self.message)
        return ": ".join(parts)

    def render(self) -> str:
        """The block the CLI prints: the headline, then the hint on its own line."""
        if self.hint:
            return f"{self.headline()}\n  hint: {self.hint}"
        return self.headline()

    def __str__(self) -> str:
        return self.headline()


class UserError(ShipyardError):
    """Something the person running Shipyard can fix: a file or a command line."""

    exit_code = 2


class SpecError(UserError):
    """A file Shipyard reads (a workflow, shipyard.yaml, a flags file) is invalid."""


class SpecErrors(SpecError):
    """Every problem found in one validation pass, so a person fixes them all at once."""

    def __init__(self, errors: Sequence[SpecError]) -> None:
        if not errors:
            raise ValueError("SpecErrors needs at least one error")
        ordered = sorted(errors, key=_error_sort_key)
        first = ordered[0]
        super().__init__(
            first.message, location=first.location, key_path=first.key_path, hint=first.hint
        )
        self.errors: tuple[SpecError, ...] = tuple(ordered)

    def headline(self) -> str:
        return self.errors[0].headline()

    def render(self) -> str:
        blocks = [error.render() for error in self.errors]
        if len(blocks) > 1:
            blocks.append(f"{len(blocks)} errors")
        return "\n".join(blocks)

    @classmethod
    def collect(cls, errors: Iterable[SpecError]) -> SpecErrors | None:
        """Flatten nested collections; None when there is nothing to report."""
        flat: list[SpecError] = []
        for error in errors:
            flat.extend(error.errors if isinstance(error, SpecErrors) else [error])
        return cls(flat) if flat else None


class UsageError(UserError):
    """A command line is invalid: an unknown flag value, a missing argument."""


class ExecutionError(ShipyardError):
    """Running something failed for a reason outside the user's own steps."""


class ActionNotAvailable(ExecutionError):
    """A ``uses:`` action cannot run here (remote, or missing from the local action directory)."""

    exit_code = 2


class Cancelled(ExecutionError):
    """A run, job or step was cancelled: Ctrl-C, a timeout or a failing sibling."""


def _error_sort_key(error: SpecError) -> tuple[str, int, int, str]:
    location = error.location
    if location is None:
        return ("", 0, 0, error.message)
    return (location.file, location.line, location.column, error.message)
