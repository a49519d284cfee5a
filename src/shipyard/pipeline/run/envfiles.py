"""The files a step writes for the runner (GITHUB_OUTPUT, GITHUB_ENV, ...), read as GitHub does.

Pure: text in, values out; the runner creates the files and reads them back.

``GITHUB_OUTPUT``, ``GITHUB_ENV`` and ``GITHUB_STATE`` hold ``NAME=value`` lines and heredocs::

    NAME<<DELIMITER
    first line
    second line
    DELIMITER

Blank lines between entries are skipped, a name is everything before the first ``=`` or ``<<``
(whichever comes first, kept as written), and the delimiter line must match exactly. A file
GitHub cannot read raises ``EnvFileError`` with GitHub's message, plus the file and line; GitHub
then reports "Unable to process file command 'output' successfully." and fails the step.

``GITHUB_ENV`` may not set ``NODE_OPTIONS`` (the runner's only refused name): GitHub reports an
error annotation and the step goes on (``parse_env_file``). That GitHub's default ``GITHUB_*`` and
``RUNNER_*`` variables cannot be overwritten is settled when a step's environment is built, not
here. ``GITHUB_PATH`` holds one directory per line; ``GITHUB_STEP_SUMMARY`` is markdown kept as
is, unless it exceeds GitHub's 1 MiB limit (``step_summary_error``).

Where this differs from GitHub's Linux runner: a CRLF line ending counts as a line break (as on
GitHub's Windows runner) instead of leaving ``\\r`` at the end of values, and ``=value`` (an
empty name) is refused with the message the runner means to give, where its check never fires.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from shipyard.core import errors
from shipyard.core.frozen import frozen

REFUSED_ENV_NAMES = ("NODE_OPTIONS",)
STEP_SUMMARY_LIMIT = 1024 * 1024  # bytes; a larger summary is dropped with an error

_FORMAT_HINT = "write `NAME=value`, or `NAME<<DELIMITER`, the value's lines, then DELIMITER alone"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # .NET's ReadLine; str.splitlines knows more


class EnvFileError(errors.ExecutionError):
    """A step file the runner cannot read: GitHub's message (``detail``) with file and line.

    ``pairs`` holds what was read before the error, which GitHub has already applied by then.
    """

    def __init__(
        self,
        detail: str,
        *,
        file_name: str,
        line: int,
        hint: str,
        pairs: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(f"{file_name} line {line}: {detail}", hint=hint)
        self.detail = detail
        self.file_name = file_name
        self.line = line
        self.pairs = tuple(pairs)


@frozen
class EnvUpdates:
    """What a step's ``GITHUB_ENV`` sets, and GitHub's error for each assignment it refuses."""

    variables: tuple[tuple[str, str], ...]
    refusals: tuple[str, ...]


def parse_key_value_file(text: str, *, file_name: str) -> list[tuple[str, str]]:
    """The ``(name, value)`` pairs of a GITHUB_OUTPUT/ENV/STATE file, in order (the last wins).

    ``file_name`` names the file in errors, e.g. ``GITHUB_OUTPUT``. Raises ``EnvFileError``.
    """
    return _KeyValueReader(text, file_name).read()


def parse_env_file(text: str, *, file_name: str = "GITHUB_ENV") -> EnvUpdates:
    """A ``GITHUB_ENV`` file: the variables it sets, minus those GitHub refuses to set."""
    variables, refusals = [], []
    for name, value in parse_key_value_file(text, file_name=file_name):
        refusal = env_refusal(name)
        if refusal is None:
            variables.append((name, value))
        else:
            refusals.append(refusal)
    return EnvUpdates(tuple(variables), tuple(refusals))


def env_refusal(name: str) -> str | None:
    """GitHub's error when ``GITHUB_ENV`` may not set ``name`` (any case), else None."""
    for refused in REFUSED_ENV_NAMES:
        if name.upper() == refused:
            return f"Can't store {refused} output parameter using '$GITHUB_ENV' command."
    return None


def parse_path_file(text: str) -> list[str]:
    """The directories of a ``GITHUB_PATH`` file, in order; empty lines are skipped.

    Lines end at ``\\n``, ``\\r\\n`` or ``\\r`` and are kept as written, spaces included.
    """
    return [line for line in _LINE_BREAK.split(_without_bom(text)) if line]


def add_path_entries(entries: Sequence[str], added: Iterable[str]) -> list[str]:
    """GitHub's list of prepended directories after a step's ``GITHUB_PATH`` lines.

    A directory added again moves to the end. ``PATH`` is the list reversed, then the job's
    own ``PATH``: the directory added last comes first.
    """
    result = list(entries)
    for entry in added:
        result = [existing for existing in result if existing != entry]
        result.append(entry)
    return result


def step_summary_error(size: int) -> str | None:
    """GitHub's error when a ``GITHUB_STEP_SUMMARY`` of ``size`` bytes is too large to keep."""
    if size <= STEP_SUMMARY_LIMIT:
        return None
    return (
        f"$GITHUB_STEP_SUMMARY upload aborted, supports content up to a size of "
        f"{STEP_SUMMARY_LIMIT // 1024}k, got {size // 1024}k. For more information see: "
        "https://docs.github.com/actions/using-workflows/workflow-commands-for-github-actions"
        "#adding-a-markdown-summary"
    )


class _KeyValueReader:
    """One pass over a key-value file, remembering the pairs read so far for errors."""

    def __init__(self, text: str, file_name: str) -> None:
        self.lines = _Lines(_without_bom(text))
        self.file_name = file_name
        self.pairs: list[tuple[str, str]] = []

    def read(self) -> list[tuple[str, str]]:
        while (line := self.lines.next()) is not None:
            if line:
                self.pairs.append(self._entry(line))
        return self.pairs

    def _entry(self, line: str) -> tuple[str, str]:
        equals, heredoc = line.find("="), line.find("<<")
        if equals >= 0 and (heredoc < 0 or equals < heredoc):
            name, value = line[:equals], line[equals + 1 :]
            if not name:
                raise self._error(
                    f"Invalid format '{line}'. Name must not be empty",
                    "start the line with the name: `NAME=value`",
                )
            return name, value
        if heredoc >= 0:
            name, delimiter = line[:heredoc], line[heredoc + 2 :]
            if not name or not delimiter:
                raise self._error(
                    f"Invalid format '{line}'. Name must not be empty and delimiter must not be "
                    "empty",
                    "give both: `NAME<<DELIMITER`",
                )
            return name, self._heredoc(delimiter)
        raise self._error(f"Invalid format '{line}'", _FORMAT_HINT)

    def _heredoc(self, delimiter: str) -> str:
        lines, opened = self.lines, self.lines.number
        start = end = lines.position
        while (line := lines.next()) != delimiter:
            if line is None:
                raise self._error(
                    f"Invalid value. Matching delimiter not found '{delimiter}'",
                    f"end the value with a line holding exactly `{delimiter}`; when the value "
                    "may lack a final newline, write one before the delimiter",
                    line=opened,
                )
            if not lines.ending:
                raise self._error(
                    "Invalid value. EOF marker missing new line.",
                    f"put `{delimiter}` on a line of its own",
                )
            end = lines.position - len(lines.ending)
        return lines.text[start:end]

    def _error(self, detail: str, hint: str, *, line: int | None = None) -> EnvFileError:
        return EnvFileError(
            detail,
            file_name=self.file_name,
            line=self.lines.number if line is None else line,
            hint=hint,
            pairs=self.pairs,
        )


class _Lines:
    """Reads a text line by line, remembering where each line ended."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0
        self.number = 0  # 1-based number of the line last read
        self.ending = ""  # the line break that ended it ("" at the end of the text)

    def next(self) -> str | None:
        text, start = self.text, self.position
        if start >= len(text):
            return None
        self.number += 1
        newline = text.find("\n", start)
        if newline < 0:
            self.position, self.ending = len(text), ""
            return text[start:]
        self.position = newline + 1
        end = newline - 1 if newline > start and text[newline - 1] == "\r" else newline
        self.ending = text[end : newline + 1]
        return text[start:end]


def _without_bom(text: str) -> str:
    """.NET's File.ReadAllText drops a leading byte order mark."""
    return text[1:] if text.startswith("\ufeff") else text
