from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shipyard.core import errors
from shipyard.pipeline.run import envfiles


def parse(text: str) -> list[tuple[str, str]]:
    return envfiles.parse_key_value_file(text, file_name="GITHUB_OUTPUT")


def failure(text: str) -> envfiles.EnvFileError:
    with pytest.raises(envfiles.EnvFileError) as caught:
        parse(text)
    return caught.value


# -- NAME=value -----------------------------------------------------------------------------------


def test_simple_values_in_order_with_blank_lines_skipped() -> None:
    text = "\nMY_KEY=my value\n\nMY_KEY_2=my second value\n\n"
    assert parse(text) == [("MY_KEY", "my value"), ("MY_KEY_2", "my second value")]


def test_empty_values_and_equals_signs_inside_values() -> None:
    text = "EMPTY=\nA==abc\nB=def=ghi\nC=jkl=\nD=abc << def"
    assert parse(text) == [
        ("EMPTY", ""),
        ("A", "=abc"),
        ("B", "def=ghi"),
        ("C", "jkl="),
        ("D", "abc << def"),
    ]


def test_names_and_values_are_kept_as_written() -> None:
    text = " spaced name = value \nkey=  \t\nÄÖ=héllo ✓ 🚀\n"
    assert parse(text) == [(" spaced name ", " value "), ("key", "  \t"), ("ÄÖ", "héllo ✓ 🚀")]


def test_a_name_ends_at_the_first_equals_sign_even_before_a_heredoc_marker() -> None:
    assert parse("MY=KEY<<EOF\n") == [("MY", "KEY<<EOF")]


def test_duplicates_are_all_returned_so_the_last_one_wins() -> None:
    assert dict(parse("A=1\nA=2\n")) == {"A": "2"}


@pytest.mark.parametrize("ending", ["", "\n", "\r\n", "\n\n"])
def test_a_trailing_newline_is_optional(ending: str) -> None:
    assert parse(f"A=1\nB=2{ending}") == [("A", "1"), ("B", "2")]


def test_crlf_line_endings_do_not_reach_the_values() -> None:
    text = "A=1\r\nB<<EOF\r\nline one\r\nline two\r\nEOF\r\nC=3\r\n"
    assert parse(text) == [("A", "1"), ("B", "line one\r\nline two"), ("C", "3")]


def test_a_lone_carriage_return_stays_in_the_value() -> None:
    assert parse("A=1\r2\n") == [("A", "1\r2")]


def test_a_byte_order_mark_is_dropped() -> None:
    assert parse("\ufeffA=1\n") == [("A", "1")]


# -- heredocs -------------------------------------------------------------------------------------


def test_a_heredoc_keeps_the_lines_between_the_delimiters() -> None:
    text = "MY_KEY<<EOF\nline one\nline two\nline three\nEOF\n"
    assert parse(text) == [("MY_KEY", "line one\nline two\nline three")]


def test_heredoc_edge_cases_from_githubs_tests() -> None:
    text = (
        "EMPTY<<EOF\nEOF\n"
        "BLANKS<<EOF\nhello\n\nthree\n\nEOF\n"
        "EQUALS<<EOF\nhello=two\nEOF\n"
        "SPACED<<EOF\n EOF\nEOF\n"
        "TWICE<<EOF\nEOF EOF\nEOF\n"
        "ODD<<=EOF\nhello\n=EOF\n"
        "ANGLE<<<EOF\nhello\n<EOF\n"
        "BASE64<<khkIhPxsVA==\nvalue\nkhkIhPxsVA=="
    )
    assert parse(text) == [
        ("EMPTY", ""),
        ("BLANKS", "hello\n\nthree\n"),
        ("EQUALS", "hello=two"),
        ("SPACED", " EOF"),
        ("TWICE", "EOF EOF"),
        ("ODD", "hello"),
        ("ANGLE", "hello"),
        ("BASE64", "value"),
    ]


def test_a_heredoc_holds_unicode_and_any_delimiter() -> None:
    assert parse("NOTE<<終わり\nこんにちは\n世界\n終わり\n") == [("NOTE", "こんにちは\n世界")]


def test_a_heredoc_keeps_mixed_line_endings_inside_the_value() -> None:
    assert parse("A<<EOF\nx\r\ny\nEOF\n") == [("A", "x\r\ny")]


@given(
    name=st.text(alphabet="AZaz_09 -.", min_size=1, max_size=8),
    lines=st.lists(st.text(alphabet="ab =<%\t", max_size=6), max_size=5),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_any_value_round_trips_through_a_heredoc(name: str, lines: list[str], newline: str) -> None:
    value = newline.join(lines)
    delimiter = "ghadelimiter_5f3a"
    text = f"{name}<<{delimiter}{newline}{value}{newline}{delimiter}{newline}"
    assert parse(text) == [(name, value)]


# -- errors (GitHub's messages, with the file and line) -------------------------------------------


def test_a_line_that_is_neither_form_is_refused() -> None:
    error = failure("A=1\njust text\n")
    assert error.render() == (
        "GITHUB_OUTPUT line 2: Invalid format 'just text'\n"
        "  hint: write `NAME=value`, or `NAME<<DELIMITER`, the value's lines, then DELIMITER alone"
    )
    assert (error.detail, error.file_name, error.line, error.pairs) == (
        "Invalid format 'just text'",
        "GITHUB_OUTPUT",
        2,
        (("A", "1"),),
    )
    assert isinstance(error, errors.ExecutionError)


def test_an_empty_name_is_refused() -> None:
    assert failure("=value").render() == (
        "GITHUB_OUTPUT line 1: Invalid format '=value'. Name must not be empty\n"
        "  hint: start the line with the name: `NAME=value`"
    )


@pytest.mark.parametrize("line", ["<<EOF", "NAME<<"])
def test_a_heredoc_needs_a_name_and_a_delimiter(line: str) -> None:
    assert failure(f"{line}\nvalue\n").message == (
        f"GITHUB_OUTPUT line 1: Invalid format '{line}'. Name must not be empty and delimiter "
        "must not be empty"
    )


def test_a_missing_delimiter_points_at_the_heredoc() -> None:
    error = failure("A=1\n\nB<<EOF\nvalue\nEOF \n")
    assert error.render() == (
        "GITHUB_OUTPUT line 3: Invalid value. Matching delimiter not found 'EOF'\n"
        "  hint: end the value with a line holding exactly `EOF`; when the value may lack a final "
        "newline, write one before the delimiter"
    )
    assert error.pairs == (("A", "1"),)


def test_a_delimiter_glued_to_the_last_line_is_not_found() -> None:
    # `printf '%s' "$body"; echo EOF` writes "...lastEOF\n": GitHub's most common heredoc error.
    assert failure("BODY<<EOF\nfirst\nlastEOF\n").detail == (
        "Invalid value. Matching delimiter not found 'EOF'"
    )


def test_a_last_line_without_a_newline_must_be_the_delimiter() -> None:
    error = failure("MY_KEY<<EOF line one\n   line two\n   line three EOF")
    assert error.render() == (
        "GITHUB_OUTPUT line 3: Invalid value. EOF marker missing new line.\n"
        "  hint: put `EOF line one` on a line of its own"
    )


def test_the_file_name_given_is_the_one_reported() -> None:
    with pytest.raises(envfiles.EnvFileError, match=r"^GITHUB_STATE line 1: Invalid format 'x'$"):
        envfiles.parse_key_value_file("x", file_name="GITHUB_STATE")


# -- GITHUB_ENV -----------------------------------------------------------------------------------


def test_github_env_refuses_node_options_in_any_case_and_goes_on() -> None:
    updates = envfiles.parse_env_file("NODE_OPTIONS=--require evil.js\nSAFE=1\nnode_options=x\n")
    refusal = "Can't store NODE_OPTIONS output parameter using '$GITHUB_ENV' command."
    assert updates == envfiles.EnvUpdates(variables=(("SAFE", "1"),), refusals=(refusal, refusal))
    assert envfiles.env_refusal("Node_Options") == refusal
    assert envfiles.env_refusal("NODE_OPTIONS_EXTRA") is None
    assert envfiles.env_refusal("GITHUB_SHA") is None


def test_github_env_errors_name_the_file() -> None:
    with pytest.raises(envfiles.EnvFileError, match=r"^GITHUB_ENV line 1: Invalid format 'x'$"):
        envfiles.parse_env_file("x")


# -- GITHUB_PATH ----------------------------------------------------------------------------------


def test_path_file_lines_in_order_blank_lines_skipped() -> None:
    text = "\ufeff/opt/tool/bin\r\n\n /with spaces \r/last\x0bline\n"
    assert envfiles.parse_path_file(text) == ["/opt/tool/bin", " /with spaces ", "/last\x0bline"]
    assert envfiles.parse_path_file("") == []


def test_path_entries_added_again_move_to_the_end() -> None:
    entries = envfiles.add_path_entries(["/a", "/b"], ["/c", "/a", "/c"])
    assert entries == ["/b", "/a", "/c"]


# -- GITHUB_STEP_SUMMARY --------------------------------------------------------------------------


def test_a_step_summary_over_one_mebibyte_is_refused() -> None:
    assert envfiles.step_summary_error(1024 * 1024) is None
    assert envfiles.step_summary_error(1024 * 1024 + 1) == (
        "$GITHUB_STEP_SUMMARY upload aborted, supports content up to a size of 1024k, got 1024k. "
        "For more information see: https://docs.github.com/actions/using-workflows/"
        "workflow-commands-for-github-actions#adding-a-markdown-summary"
    )
    assert "got 2048k" in (envfiles.step_summary_error(2 * 1024 * 1024 + 5) or "")
