"""Workflow commands in a step's output, read as GitHub's runner (actions/runner) reads them.

Pure: no I/O. ``CommandProcessor.process_line`` takes one output line (without its line break)
and returns the text to show, if any, and the ``Event`` values the runner applies.

A command is ``::name key=value,key=value::data`` after optional leading whitespace, or the legacy
``##[name key=value;key=value]data`` anywhere in the line. Names and property keys ignore case.
Data unescapes ``%25 %0D %0A``; ``::`` properties also ``%3A %2C``; legacy ones ``%3B %5D``.
A line naming no command the runner knows (``::foo::``) is ordinary output.

As on GitHub, a processed command line is not shown; with echo on (``::echo::on``, or the step
debug setting) it is, except ``add-mask`` (shown as ``::add-mask::***``) and the annotation and
debug commands, whose effect is the output. After ``::stop-commands::TOKEN`` every line is output
until one whose command name is TOKEN; GitHub refuses an empty token, ``pause-logging`` or a
command name, and masks a token longer than 6 characters.

A command the runner cannot process (``::set-output`` without a name, ``::echo::maybe``) gives
GitHub's two errors and ``CommandFailed``: the step fails when it ends, as GitHub marks it.

Choices, and where Shipyard departs from GitHub:

- ``::set-output`` and ``::save-state`` give GitHub's deprecation warning on every use and still
  set the output or state, as github.com and act both do (their removal was postponed).
- ``::set-env`` and ``::add-path`` are always refused with GitHub's error, failing the step;
  the ``ACTIONS_ALLOW_UNSECURE_COMMANDS`` opt-in is not honoured.
- A refused stop token throws outside the runner's error handling on GitHub; here it is
  GitHub's message as an error annotation plus ``CommandFailed``, and commands go on.
- The ``::stop-commands::`` line and the line that resumes are never shown, echo or not: the
  token is meant to be secret.
- ``::add-matcher``/``::remove-matcher`` are consumed and reported as events; problem matchers
  themselves are the runner's concern.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Literal, TypeAlias

from shipyard.core.frozen import frozen

Level: TypeAlias = Literal["error", "warning", "notice", "debug"]


@frozen
class Annotation:
    """An error, warning or notice for the run's report, or a debug line (shown in debug mode)."""

    level: Level
    message: str
    file: str | None = None
    line: int | None = None
    end_line: int | None = None
    column: int | None = None
    end_column: int | None = None
    title: str | None = None


@frozen
class AddMask:
    """A value to mask from now on (``::add-mask::``, or a stop token)."""

    value: str


@frozen
class GroupStart:
    """The following lines fold under ``title`` until ``GroupEnd``."""

    title: str


@frozen
class GroupEnd:
    """The current group ends."""


@frozen
class SetOutput:
    """The step output ``name`` is ``value`` (legacy ``::set-output``)."""

    name: str
    value: str


@frozen
class SaveState:
    """The action's state ``name`` is ``value``, for its post step (legacy ``::save-state``)."""

    name: str
    value: str


@frozen
class Echo:
    """Command lines are shown from now on (``enabled``) or hidden."""

    enabled: bool


@frozen
class AddMatcher:
    """A problem matcher file to load (``::add-matcher::path``)."""

    path: str


@frozen
class RemoveMatcher:
    """A problem matcher to drop, by owner or by file (exactly one is set)."""

    owner: str | None
    path: str | None


@frozen
class CommandFailed:
    """A command could not be processed: the step fails when it ends, whatever its exit code."""

    command: str


Event: TypeAlias = (
    Annotation
    | AddMask
    | GroupStart
    | GroupEnd
    | SetOutput
    | SaveState
    | Echo
    | AddMatcher
    | RemoveMatcher
    | CommandFailed
)


@frozen
class WorkflowCommand:
    """One parsed command line: its name as written, properties (keys lower-cased) and data."""

    name: str
    properties: Mapping[str, str]
    data: str


# The commands GitHub's runner registers (ActionCommandManager), lower-cased.
COMMAND_NAMES = frozenset(
    {
        "add-mask",
        "add-matcher",
        "add-path",
        "debug",
        "echo",
        "endgroup",
        "error",
        "group",
        "notice",
        "remove-matcher",
        "save-state",
        "set-env",
        "set-output",
        "stop-commands",
        "warning",
    }
)
_SILENT = frozenset({"add-mask", "debug", "error", "notice", "warning"})  # never echoed
_ISSUE_LEVELS: dict[str, Level] = {"error": "error", "warning": "warning", "notice": "notice"}

DEPRECATED_MESSAGE = (
    "The `{0}` command is deprecated and will be disabled soon. Please upgrade to using "
    "Environment Files. For more information see: "
    "https://github.blog/changelog/2022-10-11-github-actions-deprecating-save-state-and-set-output-commands/"
)
DISABLED_MESSAGE = (
    "The `{0}` command is disabled. Please upgrade to using Environment Files or opt into "
    "unsecure command execution by setting the `ACTIONS_ALLOW_UNSECURE_COMMANDS` environment "
    "variable to `true`. For more information see: "
    "https://github.blog/changelog/2020-10-01-github-actions-deprecating-set-env-and-add-path-commands/"
)
STOP_TOKEN_MESSAGE = (
    "You cannot use a endToken that is an empty string, the string 'pause-logging', or another "
    "workflow command. For more information see: "
    "https://docs.github.com/actions/learn-github-actions/workflow-commands-for-github-actions"
    "#example-stopping-and-starting-workflow-commands or opt into insecure command execution by "
    "setting the `ACTIONS_ALLOW_UNSECURE_STOPCOMMAND_TOKENS` environment variable to `true`."
)

# .NET's char.IsWhiteSpace, which the runner's Trim() uses (Python's isspace adds \x1c-\x1f).
_WHITESPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)
_DATA_ESCAPES = {"%0D": "\r", "%0A": "\n", "%25": "%"}
_PROPERTY_ESCAPES = {**_DATA_ESCAPES, "%3A": ":", "%2C": ","}
_LEGACY_ESCAPES = {**_DATA_ESCAPES, "%3B": ";", "%5D": "]"}
# GitHub unescapes with one Replace per escape, %25 last; no escape can overlap another or be
# formed by an earlier replacement, so a single left-to-right pass gives the same result.
_DATA_ESCAPE = re.compile("|".join(_DATA_ESCAPES))
_PROPERTY_ESCAPE = re.compile("|".join(_PROPERTY_ESCAPES))
_LEGACY_ESCAPE = re.compile("|".join(_LEGACY_ESCAPES))
# A property as .NET's Split('=', 2, RemoveEmptyEntries) leaves a usable pair: the key is the
# first non-empty piece, the value everything after the '=' run that follows it.
_PROPERTY = re.compile(r"=*([^=]+)=+([^=].*)", re.DOTALL)
_INTEGER = re.compile(r"[+-]?[0-9]+")


def unescape_data(text: str) -> str:
    """Command data as GitHub reads it: ``%25``, ``%0D`` and ``%0A`` decoded."""
    return _DATA_ESCAPE.sub(lambda found: _DATA_ESCAPES[found.group()], text)


def unescape_property(text: str) -> str:
    """A ``::`` property value as GitHub reads it: data escapes plus ``%3A`` and ``%2C``."""
    return _PROPERTY_ESCAPE.sub(lambda found: _PROPERTY_ESCAPES[found.group()], text)


def escape_data(text: str) -> str:
    """``text`` written as command data (what ``@actions/core`` does)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """``text`` written as a ``::`` property value."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def parse_command(line: str, names: frozenset[str] = COMMAND_NAMES) -> WorkflowCommand | None:
    """The command on ``line`` if it names one of ``names`` (lower-cased), else None."""
    return _parse_v2(line, names) or _parse_legacy(line, names)


def _parse_v2(line: str, names: frozenset[str]) -> WorkflowCommand | None:
    message = line.lstrip(_WHITESPACE)
    if not message.startswith("::"):
        return None
    end = message.find("::", 2)
    if end < 0:
        return None
    name, _, rest = message[2:end].partition(" ")
    if _fold(name) not in names:
        return None
    properties = {}
    for item in rest.strip(_WHITESPACE).split(","):
        pair = _PROPERTY.fullmatch(item)
        if pair is not None:
            properties[_fold(pair.group(1))] = unescape_property(pair.group(2))
    return WorkflowCommand(name, properties, unescape_data(message[end + 2 :]))


def _parse_legacy(line: str, names: frozenset[str]) -> WorkflowCommand | None:
    start = line.find("##[")
    if start < 0:
        return None
    end = line.find("]", start)
    if end < 0:
        return None
    name, _, rest = line[start + 3 : end].partition(" ")
    if _fold(name) not in names:
        return None
    properties = {}
    for item in rest.split(";"):
        pair = _PROPERTY.fullmatch(item)
        if pair is not None:
            properties[_fold(pair.group(1))] = _unescape_legacy(pair.group(2))
    return WorkflowCommand(name, properties, _unescape_legacy(line[end + 1 :]))


def _unescape_legacy(text: str) -> str:
    return _LEGACY_ESCAPE.sub(lambda found: _LEGACY_ESCAPES[found.group()], text)


def _fold(text: str) -> str:
    """Lower-case one character at a time, as .NET's ordinal ignore-case comparison does."""
    if text.isascii():
        return text.lower()
    return "".join(char.lower() if len(char.lower()) == 1 else char for char in text)


class _Refused(Exception):
    """A command GitHub's runner throws on: reported as two errors, and the step fails."""


class CommandProcessor:
    """Stateful per step: tracks stop-commands and echo. Pure: it returns events, never acts.

    ``echo`` starts on when the step runs in debug mode, as on GitHub. ``workspace``, when
    given, makes an annotation's file relative to it, as GitHub does for the repository.
    """

    def __init__(self, *, echo: bool = False, workspace: str | None = None) -> None:
        self.echo = echo
        self._workspace = workspace
        self._stop_token: str | None = None

    @property
    def stopped(self) -> bool:
        """Whether commands are paused by ``::stop-commands::``."""
        return self._stop_token is not None

    def process_line(self, line: str) -> tuple[str | None, list[Event]]:
        """(text to show or None to hide the command line itself as GitHub does, events).

        GitHub logs the shown text before the events' own output (a group header, an error).
        """
        token = self._stop_token
        names = COMMAND_NAMES if token is None else COMMAND_NAMES | {_fold(token)}
        command = parse_command(line, names)
        if command is None:
            return line, []
        key = _fold(command.name)
        if token is not None:
            if key == _fold(token):
                self._stop_token = None
                return None, []
            return line, []
        if key == "stop-commands":
            return None, self._stop(command.data)
        shown = line if self.echo and key not in _SILENT else None
        events: list[Event] = []
        if key in ("set-output", "save-state"):
            events.append(Annotation("warning", DEPRECATED_MESSAGE.format(key)))
        try:
            events.extend(_HANDLERS[key](self, command))
        except _Refused as refusal:
            described = key if key in _SILENT else line
            events.append(
                Annotation("error", f"Unable to process command '{described}' successfully.")
            )
            events.append(Annotation("error", str(refusal)))
            events.append(CommandFailed(key))
        if key == "add-mask" and self.echo and any(isinstance(e, AddMask) for e in events):
            shown = "::add-mask::***"
        return shown, events

    def _stop(self, token: str) -> list[Event]:
        folded = _fold(token)
        if not token or folded in COMMAND_NAMES or folded == "pause-logging":
            return [Annotation("error", STOP_TOKEN_MESSAGE), CommandFailed("stop-commands")]
        self._stop_token = token
        # GitHub masks the token when longer than 6 .NET characters (UTF-16 code units).
        if len(token.encode("utf-16-le", "surrogatepass")) > 12:
            return [AddMask(token)]
        return []

    def _add_mask(self, command: WorkflowCommand) -> list[Event]:
        if not command.data.strip(_WHITESPACE):
            message = "Can't add secret mask for empty string in ##[add-mask] command."
            return [Annotation("warning", message)]
        return [AddMask(command.data)]

    def _add_matcher(self, command: WorkflowCommand) -> list[Event]:
        if not command.data:
            return [Annotation("warning", "File path must be specified.")]
        return [AddMatcher(command.data)]

    def _remove_matcher(self, command: WorkflowCommand) -> list[Event]:
        owner, path = command.properties.get("owner", ""), command.data
        if owner and path:
            return [
                Annotation(
                    "warning",
                    "Either specify an owner name or a file path in ##[remove-matcher] command. "
                    "Both values cannot be set.",
                )
            ]
        if not owner and not path:
            return [
                Annotation(
                    "warning",
                    "Either an owner name or a file path must be specified in "
                    "##[remove-matcher] command.",
                )
            ]
        return [RemoveMatcher(owner or None, path or None)]

    def _disabled(self, command: WorkflowCommand) -> list[Event]:
        raise _Refused(DISABLED_MESSAGE.format(_fold(command.name)))

    def _debug(self, command: WorkflowCommand) -> list[Event]:
        return [Annotation("debug", command.data)]

    def _echo(self, command: WorkflowCommand) -> list[Event]:
        if not command.data:
            raise _Refused("Value cannot be null. (Parameter 'value')")
        setting = command.data.strip(_WHITESPACE).upper()
        if setting not in ("ON", "OFF"):
            raise _Refused(
                "Invalid echo command value. Possible values can be: 'on', 'off'. "
                f"Current value is: '{command.data}'."
            )
        self.echo = setting == "ON"
        return [Echo(self.echo)]

    def _issue(self, command: WorkflowCommand) -> list[Event]:
        level = _ISSUE_LEVELS[_fold(command.name)]
        properties = _checked_positions(dict(command.properties))
        file = properties.get("file") or None
        if file is not None and self._workspace:
            file = _relative(file, self._workspace)
        return [
            Annotation(
                level,
                command.data,
                file=file,
                line=_integer(properties.get("line")),
                end_line=_integer(properties.get("endline")),
                column=_integer(properties.get("col")),
                end_column=_integer(properties.get("endcolumn")),
                title=properties.get("title") or None,
            )
        ]

    def _group(self, command: WorkflowCommand) -> list[Event]:
        return [GroupStart(command.data)]

    def _end_group(self, command: WorkflowCommand) -> list[Event]:
        return [GroupEnd()]

    def _set_output(self, command: WorkflowCommand) -> list[Event]:
        return [SetOutput(_required_name(command, "set-output"), command.data)]

    def _save_state(self, command: WorkflowCommand) -> list[Event]:
        return [SaveState(_required_name(command, "save-state"), command.data)]


_HANDLERS: dict[str, Callable[[CommandProcessor, WorkflowCommand], list[Event]]] = {
    "add-mask": CommandProcessor._add_mask,
    "add-matcher": CommandProcessor._add_matcher,
    "add-path": CommandProcessor._disabled,
    "debug": CommandProcessor._debug,
    "echo": CommandProcessor._echo,
    "endgroup": CommandProcessor._end_group,
    "error": CommandProcessor._issue,
    "group": CommandProcessor._group,
    "notice": CommandProcessor._issue,
    "remove-matcher": CommandProcessor._remove_matcher,
    "save-state": CommandProcessor._save_state,
    "set-env": CommandProcessor._disabled,
    "set-output": CommandProcessor._set_output,
    "warning": CommandProcessor._issue,
}


def _required_name(command: WorkflowCommand, key: str) -> str:
    name = command.properties.get("name", "")
    if not name:
        raise _Refused(f"Required field 'name' is missing in ##[{key}] command.")
    return name


def _checked_positions(properties: dict[str, str]) -> dict[str, str]:
    """GitHub's ValidateLinesAndColumns: drop or fill positions that cannot go together.

    As there, the numbers are parsed once, before any change, an unparsable one counting as 0.
    """
    line, end_line = properties.get("line"), properties.get("endline")
    line_number, end_line_number = _integer(line), _integer(end_line)
    column_number = _integer(properties.get("col"))
    end_column = properties.get("endcolumn")
    end_column_number = _integer(end_column)
    has_line, has_column = line_number is not None, column_number is not None
    any_column = has_column or end_column_number is not None
    if end_line is not None and end_line_number is not None and not has_line:
        properties["line"] = line = end_line
        has_line = True
    if end_column is not None and end_column_number is not None and not has_column:
        properties["col"] = end_column
        has_column = True
    if any_column and (not has_line or (end_line_number is not None and line != end_line)):
        properties.pop("col", None)
        properties.pop("endcolumn", None)
    if has_line and end_line_number is not None and end_line_number < (line_number or 0):
        properties.pop("line", None)
        properties.pop("endline", None)
    if has_column and end_column_number is not None and end_column_number < (column_number or 0):
        properties.pop("col", None)
        properties.pop("endcolumn", None)
    return properties


def _integer(text: str | None) -> int | None:
    """.NET's int.TryParse: optional surrounding whitespace and sign, 32-bit range."""
    if text is None:
        return None
    stripped = text.strip("\t\n\v\f\r ")
    if not _INTEGER.fullmatch(stripped):
        return None
    number = int(stripped)
    return number if -(2**31) <= number < 2**31 else None


def _relative(file: str, workspace: str) -> str:
    """``file`` relative to ``workspace`` when inside it (GitHub's IOUtil.MakeRelative)."""
    if not file.startswith(workspace) or len(file) == len(workspace):
        return file
    if workspace.endswith("/"):
        return file[len(workspace) :]
    if file[len(workspace)] == "/":
        return file[len(workspace) + 1 :]
    return file
