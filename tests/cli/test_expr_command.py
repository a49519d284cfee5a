"""``shipyard expr``, run as a person runs it: exact output and exit codes."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest


def shipyard(*arguments: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shipyard", "expr", *arguments],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )


@pytest.fixture
def contexts(tmp_path: Path) -> Path:
    path = tmp_path / "contexts.json"
    path.write_text(
        json.dumps(
            {
                "github": {"ref": "refs/tags/v1.2", "event_name": "push"},
                "matrix": {"os": "ubuntu-latest", "python": [3.11, 3.12]},
            }
        ),
        encoding="utf-8",
    )
    return path


def test_prints_the_value_as_json(contexts: Path) -> None:
    done = shipyard("startsWith(github.ref, 'refs/tags/')", "--contexts", str(contexts))
    assert (done.returncode, done.stdout, done.stderr) == (0, "true\n", "")


def test_objects_and_arrays_are_indented_like_tojson(contexts: Path) -> None:
    done = shipyard("matrix", "--contexts", str(contexts))
    assert done.returncode == 0
    assert done.stdout == (
        '{\n  "os": "ubuntu-latest",\n  "python": [\n    3.11,\n    3.12\n  ]\n}\n'
    )


def test_text_with_expressions_is_interpolated(contexts: Path) -> None:
    done = shipyard("build-${{ matrix.os }}-${{ matrix.python[0] }}", "--contexts", str(contexts))
    assert (done.returncode, done.stdout) == (0, '"build-ubuntu-latest-3.11"\n')


def test_without_contexts_only_literals_and_functions() -> None:
    done = shipyard("format('{0}-{1}', 1.50, fromJSON('null'))")
    assert (done.returncode, done.stdout) == (0, '"1.5-"\n')


def test_a_syntax_error_exits_2_with_githubs_message() -> None:
    done = shipyard("1 < )")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "error: Unexpected symbol: ')'. Located at position 5 within expression: 1 < )\n"
    )


def test_an_unknown_context_suggests_and_lists_the_valid_ones(contexts: Path) -> None:
    done = shipyard("githb.ref", "--contexts", str(contexts))
    assert done.returncode == 2
    assert done.stderr == (
        "error: Unrecognized named-value: 'githb'. Located at position 1 within expression: "
        "githb.ref\n"
        "  hint: did you mean `github`? valid contexts: `github`, `matrix`\n"
    )


def test_an_evaluation_error_exits_2() -> None:
    done = shipyard("fromJSON('{')")
    assert done.returncode == 2
    assert done.stderr.startswith("error: Error parsing fromJSON: Expecting property name")
    assert "Traceback" not in done.stderr


def test_status_functions_see_the_given_status() -> None:
    assert shipyard("success()").stdout == "true\n"
    assert shipyard("failure()", "--status", "failure").stdout == "true\n"
    assert shipyard("success() || always()", "--status", "cancelled").stdout == "true\n"


def test_hash_files_searches_the_workspace(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("click\n", encoding="utf-8")
    expected = hashlib.sha256(hashlib.sha256(b"click\n").digest()).hexdigest()
    assert shipyard("hashFiles('*.txt')", cwd=tmp_path).stdout == f'"{expected}"\n'
    done = shipyard("hashFiles('**/*.txt')", "--workspace", str(tmp_path))
    assert (done.returncode, done.stdout) == (0, f'"{expected}"\n')


def test_a_context_file_that_is_not_json_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "contexts.json"
    path.write_text("{github: 1}", encoding="utf-8")
    done = shipyard("github", "--contexts", str(path))
    assert done.returncode == 2
    assert done.stderr == (
        f"error: --contexts {path}: not valid JSON: Expecting property name enclosed in double "
        "quotes at line 1, column 2\n"
        '  hint: write an object of contexts, e.g. {"github": {"ref": "refs/heads/main"}}\n'
    )


def test_a_context_file_must_hold_an_object(tmp_path: Path) -> None:
    path = tmp_path / "contexts.json"
    path.write_text("[1]", encoding="utf-8")
    done = shipyard("1", "--contexts", str(path))
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: --contexts {path}: expected a JSON object of contexts")


def test_a_missing_context_file_is_reported_by_the_command_line(tmp_path: Path) -> None:
    done = shipyard("1", "--contexts", str(tmp_path / "missing.json"))
    assert done.returncode == 2
    assert "does not exist" in done.stderr
