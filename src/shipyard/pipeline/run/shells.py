"""Which command runs a ``run:`` script: GitHub's shell templates. Pure apart from ``which``."""

from __future__ import annotations

import functools
import os
import shlex
import shutil

from shipyard.core import errors
from shipyard.core.frozen import frozen

# shell name -> (command template, script file extension), as GitHub's Linux runners use them.
TEMPLATES: dict[str, tuple[str, str]] = {
    "bash": ("bash --noprofile --norc -eo pipefail {0}", ".sh"),
    "sh": ("sh -e {0}", ".sh"),
    "python": ("python {0}", ".py"),
    "pwsh": ("pwsh -command \". '{0}'\"", ".ps1"),
    "powershell": ("pwsh -command \". '{0}'\"", ".ps1"),
}
UNSPECIFIED_TEMPLATE = "bash -e {0}"
"""A step with no ``shell`` anywhere runs ``bash -e`` (not pipefail), as on GitHub."""


class ShellError(errors.UserError):
    """A ``shell:`` value cannot be used."""


@frozen
class ShellCommand:
    """A shell template (``bash -e {0}``) and the extension its script file needs."""

    template: str
    extension: str

    def argv(self, script: str) -> list[str]:
        return [part.replace("{0}", script) for part in _split(self.template)]


@functools.lru_cache(maxsize=64)
def _split(template: str) -> tuple[str, ...]:
    return tuple(shlex.split(template))


@functools.lru_cache(maxsize=64)
def _which(program: str, path: str | None) -> bool:
    return shutil.which(program, path=path) is not None


def _installed(program: str) -> bool:
    """Whether the runner's PATH has ``program``: asked once per PATH, not once per step."""
    return _which(program, os.environ.get("PATH"))


def resolve(shell: str | None) -> ShellCommand:
    """The command for a ``shell:`` value (None when no shell is configured anywhere)."""
    if shell is None:
        template = UNSPECIFIED_TEMPLATE if _installed("bash") else "sh -e {0}"
        return ShellCommand(template, ".sh")
    if shell in TEMPLATES:
        template, extension = TEMPLATES[shell]
    elif "{0}" in shell:
        template, extension = shell, ""
    else:
        raise ShellError(
            f"unknown shell `{shell}`",
            hint="use bash, sh, python, pwsh, or a command with `{0}` where the script file goes, "
            "e.g. `perl {0}`",
        )
    if template.startswith("pwsh") and not _installed("pwsh"):
        raise ShellError(
            "PowerShell (`pwsh`) is not installed on this machine",
            hint="install PowerShell, or use `shell: bash`",
        )
    return ShellCommand(template, extension)
