"""Shell templates: GitHub's names, custom `{0}` commands, and unusable shells refused."""

from __future__ import annotations

import shutil

import pytest

from shipyard.pipeline.run import shells


def test_named_shells_use_githubs_templates() -> None:
    bash = shells.resolve("bash")
    assert bash.argv("/tmp/s.sh") == [
        "bash",
        "--noprofile",
        "--norc",
        "-eo",
        "pipefail",
        "/tmp/s.sh",
    ]
    assert bash.extension == ".sh"
    assert shells.resolve("python").argv("/tmp/s.py") == ["python", "/tmp/s.py"]


def test_no_shell_anywhere_runs_bash_without_pipefail() -> None:
    assert shells.resolve(None).argv("/s") == ["bash", "-e", "/s"]


def test_a_custom_template_puts_the_script_where_its_placeholder_is() -> None:
    custom = shells.resolve("perl -w '{0}' --flag")
    assert custom.argv("/tmp/my step.pl") == ["perl", "-w", "/tmp/my step.pl", "--flag"]
    assert custom.extension == ""


def test_an_unknown_shell_is_refused_with_the_choices() -> None:
    with pytest.raises(shells.ShellError) as raised:
        shells.resolve("zsh")
    assert raised.value.message == "unknown shell `zsh`"
    assert "bash, sh, python, pwsh" in (raised.value.hint or "")


@pytest.mark.skipif(shutil.which("pwsh") is not None, reason="PowerShell is installed here")
def test_powershell_missing_from_the_machine_is_refused() -> None:
    with pytest.raises(shells.ShellError) as raised:
        shells.resolve("pwsh")
    assert "`pwsh`" in raised.value.message
