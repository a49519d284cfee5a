from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shipyard.pipeline.run import commands
from shipyard.pipeline.run.commands import (
    AddMask,
    AddMatcher,
    Annotation,
    CommandFailed,
    Echo,
    GroupEnd,
    GroupStart,
    RemoveMatcher,
    SaveState,
    SetOutput,
)

DEPRECATED = (
    "The `{0}` command is deprecated and will be disabled soon. Please upgrade to using "
    "Environment Files. For more information see: "
    "https://github.blog/changelog/2022-10-11-github-actions-deprecating-save-state-and-set-output-commands/"
)
DISABLED = (
    "The `{0}` command is disabled. Please upgrade to using Environment Files or opt into "
    "unsecure command execution by setting the `ACTIONS_ALLOW_UNSECURE_COMMANDS` environment "
    "variable to `true`. For more information see: "
    "https://github.blog/changelog/2020-10-01-github-actions-deprecating-set-env-and-add-path-commands/"
)
STOP_TOKEN_REFUSED = (
    "You cannot use a endToken that is an empty string, the string 'pause-logging', or another "
    "workflow command. For more information see: "
    "https://docs.github.com/actions/learn-github-actions/workflow-commands-for-github-actions"
    "#example-stopping-and-starting-workflow-commands or opt into insecure command execution by "
    "setting the `ACTIONS_ALLOW_UNSECURE_STOPCOMMAND_TOKENS` environment variable to `true`."
)


def process(
    line: str, *, echo: bool = False, workspace: str | None = None
) -> tuple[str | None, list[commands.Event]]:
    return commands.CommandProcessor(echo=echo, workspace=workspace).process_line(line)


def refused(line: str, command: str, reason: str) -> list[commands.Event]:
    return [
        Annotation("error", f"Unable to process command '{line}' successfully."),
        Annotation("error", reason),
        CommandFailed(command),
    ]


# -- ordinary output -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "",
        "plain output",
        "::foo::bar",  # not a command the runner knows
        "echo ::error::x",  # `::` commands must start the line
        "::error",  # no `::` after the name
        "::::",
        ":: error::x",  # the name ends at the first space
        "##[error no closing bracket",
    ],
)
def test_lines_that_are_not_commands_are_shown_as_they_are(line: str) -> None:
    assert process(line) == (line, [])


# -- syntax ----------------------------------------------------------------------------------------


def test_an_annotation_with_every_property() -> None:
    line = "::warning file=app.js,line=1,endLine=1,col=5,endColumn=7,title=Lint::Missing semicolon"
    assert process(line) == (
        None,
        [
            Annotation(
                "warning",
                "Missing semicolon",
                file="app.js",
                line=1,
                end_line=1,
                column=5,
                end_column=7,
                title="Lint",
            )
        ],
    )


def test_leading_whitespace_is_allowed_and_names_and_keys_ignore_case() -> None:
    assert process(" \t::ERROR FILE=a.py,Line=3::boom") == (
        None,
        [Annotation("error", "boom", file="a.py", line=3)],
    )


def test_data_unescapes_percent_cr_and_lf_once() -> None:
    assert process("::notice::100%25 done%0D%0Anext %3A %2C %250A %0a") == (
        None,
        [Annotation("notice", "100% done\r\nnext %3A %2C %0A %0a")],
    )


def test_properties_also_unescape_colon_and_comma() -> None:
    line = "::error title=a%3Ab%2Cc%25d%0Ae,file=x::m::n"
    assert process(line) == (None, [Annotation("error", "m::n", file="x", title="a:b,c%d\ne")])


def test_property_quirks_follow_the_runners_split() -> None:
    # Pieces are split on ',' and '=' with empty pieces dropped; keys keep their spaces.
    line = "::error title==x,=a=b,file=a.py, line=3,col=,::m"
    assert process(line) == (None, [Annotation("error", "m", file="a.py", title="x")])


def test_legacy_commands_start_anywhere_and_use_their_own_escapes() -> None:
    line = "log: ##[warning file=a.txt;line=2]careful%3B%5D%25 %3A"
    assert process(line) == (
        None,
        [Annotation("warning", "careful;]% %3A", file="a.txt", line=2)],
    )


@given(message=st.text(), title=st.text().filter(lambda text: not text.startswith("=")))
def test_escaped_messages_and_titles_come_back_unchanged(message: str, title: str) -> None:
    line = (
        f"::error title={commands.escape_property(title)},file=f::{commands.escape_data(message)}"
    )
    assert process(line) == (None, [Annotation("error", message, file="f", title=title or None)])


@given(text=st.text())
def test_unescaping_inverts_escaping(text: str) -> None:
    assert commands.unescape_data(commands.escape_data(text)) == text
    assert commands.unescape_property(commands.escape_property(text)) == text


# -- annotation positions (GitHub's ValidateLinesAndColumns) ---------------------------------------


@pytest.mark.parametrize(
    ("properties", "line", "end_line", "column", "end_column"),
    [
        ("endLine=5", 5, 5, None, None),
        ("line=3,endColumn=9", 3, None, 9, 9),
        ("col=4,endColumn=6", None, None, None, None),  # columns need a line
        ("line=1,endLine=3,col=2,endColumn=5", 1, 3, None, None),  # ... on one line
        ("line=5,endLine=2", None, None, None, None),
        ("line=1,col=9,endColumn=3", 1, None, None, None),
        ("line= 7 ,col=+2", 7, None, 2, None),
        ("line=abc,col=2", None, None, None, None),
        ("line=99999999999", None, None, None, None),
        ("line=-3", -3, None, None, None),
    ],
)
def test_positions_that_cannot_go_together_are_dropped_or_filled(
    properties: str,
    line: int | None,
    end_line: int | None,
    column: int | None,
    end_column: int | None,
) -> None:
    expected = Annotation("error", "m", None, line, end_line, column, end_column)
    assert process(f"::error {properties}::m") == (None, [expected])


def test_files_inside_the_workspace_become_relative() -> None:
    def file_of(path: str) -> str | None:
        _, events = process(f"::error file={path}::m", workspace="/w/repo")
        (annotation,) = events
        assert isinstance(annotation, Annotation)
        return annotation.file

    assert file_of("/w/repo/src/a.py") == "src/a.py"
    assert file_of("/w/repository/a.py") == "/w/repository/a.py"
    assert file_of("/w/repo") == "/w/repo"
    assert file_of("src/a.py") == "src/a.py"
    _, events = process("::error file=/w/repo/a.py::m", workspace="/w/repo/")
    assert events == [Annotation("error", "m", file="a.py")]


# -- each command ----------------------------------------------------------------------------------


def test_add_mask() -> None:
    assert process("::add-mask::s3cr3t") == (None, [AddMask("s3cr3t")])
    assert process("::add-mask::s3cr3t", echo=True) == ("::add-mask::***", [AddMask("s3cr3t")])
    assert process("##[add-mask]legacy") == (None, [AddMask("legacy")])
    empty = Annotation("warning", "Can't add secret mask for empty string in ##[add-mask] command.")
    assert process("::add-mask:: %0A ") == (None, [empty])
    assert process("::add-mask::", echo=True) == (None, [empty])


def test_debug_and_groups() -> None:
    assert process("::debug::details %25") == (None, [Annotation("debug", "details %")])
    assert process("::debug::details", echo=True) == (None, [Annotation("debug", "details")])
    assert process("::group::Build step") == (None, [GroupStart("Build step")])
    assert process("::endgroup::ignored") == (None, [GroupEnd()])
    assert process("::group::Build", echo=True) == ("::group::Build", [GroupStart("Build")])


def test_set_output_and_save_state_warn_and_still_apply() -> None:
    assert process("::set-output name=version::1.2%0A3") == (
        None,
        [Annotation("warning", DEPRECATED.format("set-output")), SetOutput("version", "1.2\n3")],
    )
    assert process("::save-state name=pid::42", echo=True) == (
        "::save-state name=pid::42",
        [Annotation("warning", DEPRECATED.format("save-state")), SaveState("pid", "42")],
    )


def test_set_output_without_a_name_fails_the_step() -> None:
    line = "::set-output::v"
    assert process(line) == (
        None,
        [
            Annotation("warning", DEPRECATED.format("set-output")),
            *refused(
                line, "set-output", "Required field 'name' is missing in ##[set-output] command."
            ),
        ],
    )
    line = "::save-state name=::v"
    assert process(line)[1][1:] == refused(
        line, "save-state", "Required field 'name' is missing in ##[save-state] command."
    )


@pytest.mark.parametrize("name", ["set-env", "add-path"])
def test_set_env_and_add_path_are_disabled(name: str) -> None:
    line = f"::{name.upper()} name=A::b"
    assert process(line) == (None, refused(line, name, DISABLED.format(name)))


def test_echo_shows_command_lines_until_turned_off() -> None:
    processor = commands.CommandProcessor()
    assert processor.process_line("::echo::on") == (None, [Echo(True)])
    assert processor.process_line("::set-output name=a::b")[0] == "::set-output name=a::b"
    assert processor.process_line("::echo::Off   ") == ("::echo::Off   ", [Echo(False)])
    assert processor.process_line("::group::g") == (None, [GroupStart("g")])
    assert processor.process_line("::echo::ON") == (None, [Echo(True)])
    assert processor.echo


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("::echo::", "Value cannot be null. (Parameter 'value')"),
        (
            "::echo::maybe",
            "Invalid echo command value. Possible values can be: 'on', 'off'. "
            "Current value is: 'maybe'.",
        ),
    ],
)
def test_invalid_echo_values_fail_the_step(line: str, reason: str) -> None:
    assert process(line) == (None, refused(line, "echo", reason))


def test_problem_matcher_commands_are_reported() -> None:
    assert process("::add-matcher::.github/m.json") == (None, [AddMatcher(".github/m.json")])
    assert process("::add-matcher::") == (
        None,
        [Annotation("warning", "File path must be specified.")],
    )
    assert process("::remove-matcher owner=eslint::") == (None, [RemoveMatcher("eslint", None)])
    assert process("::remove-matcher::m.json") == (None, [RemoveMatcher(None, "m.json")])
    both = (
        "Either specify an owner name or a file path in ##[remove-matcher] command. "
        "Both values cannot be set."
    )
    assert process("::remove-matcher owner=o::m.json") == (None, [Annotation("warning", both)])
    neither = "Either an owner name or a file path must be specified in ##[remove-matcher] command."
    assert process("::remove-matcher::") == (None, [Annotation("warning", neither)])


# -- stop-commands ---------------------------------------------------------------------------------


def test_nothing_is_processed_between_stop_commands_and_its_token() -> None:
    processor = commands.CommandProcessor()
    assert processor.process_line("::stop-commands::pause-42") == (None, [AddMask("pause-42")])
    assert processor.stopped
    for line in ["::error::x", "::set-output name=a::b", "::stop-commands::other", "##[group]g"]:
        assert processor.process_line(line) == (line, [])
    assert processor.process_line("::PAUSE-42::") == (None, [])
    assert not processor.stopped
    assert processor.process_line("::error::x") == (None, [Annotation("error", "x")])


def test_a_short_token_is_not_masked_and_legacy_syntax_resumes() -> None:
    processor = commands.CommandProcessor(echo=True)
    assert processor.process_line("::stop-commands::abc") == (None, [])
    assert processor.process_line("##[abc]") == (None, [])
    assert not processor.stopped


def test_while_stopped_a_known_command_hides_a_later_token() -> None:
    processor = commands.CommandProcessor()
    processor.process_line("::stop-commands::tok")
    # GitHub parses `::error::` first: not the token, so the line is output and it stays stopped.
    assert processor.process_line("::error::x ##[tok]") == ("::error::x ##[tok]", [])
    assert processor.stopped
    assert processor.process_line("::unknown:: ##[tok]") == (None, [])
    assert not processor.stopped


@pytest.mark.parametrize(
    "line", ["::stop-commands::", "::stop-commands::pause-logging", "::stop-commands::Error"]
)
def test_refused_stop_tokens_fail_the_step_and_keep_processing(line: str) -> None:
    processor = commands.CommandProcessor()
    assert processor.process_line(line) == (
        None,
        [Annotation("error", STOP_TOKEN_REFUSED), CommandFailed("stop-commands")],
    )
    assert not processor.stopped
    assert processor.process_line("::debug::d") == (None, [Annotation("debug", "d")])


def test_parse_command_exposes_the_raw_command() -> None:
    parsed = commands.parse_command("::Set-Output Name=a%3A::b")
    assert parsed == commands.WorkflowCommand("Set-Output", {"name": "a:"}, "b")
    assert commands.parse_command("::custom::x") is None
    assert commands.parse_command("::custom::x", frozenset({"custom"})) == commands.WorkflowCommand(
        "custom", {}, "x"
    )
