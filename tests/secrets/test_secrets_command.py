"""``shipyard secrets``: exact output and exit status, run as a person runs it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.secrets.conftest import Key, sops


def shipyard(
    home: Path, root: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shipyard", "secrets", *args],
        cwd=root,
        env={**os.environ, "SHIPYARD_HOME": str(home), **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_keygen_then_set_get_list_rm(home: Path, repo: Path) -> None:
    made = shipyard(home, repo, "keygen")
    assert made.returncode == 0, made.stderr
    public = made.stdout.strip()
    assert public.startswith("age1")
    key_file = home / "keys" / "default.txt"
    assert made.stderr == f"created {key_file}\n"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    done = shipyard(home, repo, "set", "staging", "API_KEY", stdin="from-stdin-123\n")
    assert (done.returncode, done.stdout) == (0, "")
    assert done.stderr == "set API_KEY in .shipyard/secrets/staging.yaml\n"
    assert "from-stdin-123" not in (repo / ".shipyard/secrets/staging.yaml").read_text()
    shipyard(home, repo, "set", "staging", "db.password", "--value", "given-on-argv")
    assert shipyard(home, repo, "get", "staging", "API_KEY").stdout == "from-stdin-123\n"
    listed = shipyard(home, repo, "list", "staging")
    assert listed.stdout == "API_KEY\ndb.password\n"
    short = shipyard(home, repo, "set", "staging", "PIN", "--value", "123")
    assert short.stderr.startswith(
        "warning: PIN is shorter than 4 characters and will not be masked in logs\n"
    )
    removed = shipyard(home, repo, "rm", "staging", "API_KEY")
    assert removed.stderr == "removed API_KEY from .shipyard/secrets/staging.yaml\n"
    missing = shipyard(home, repo, "get", "staging", "API_KEY")
    assert missing.returncode == 2
    assert missing.stderr == (
        "error: environment `staging` has no secret `API_KEY`\n"
        "  hint: list them with `shipyard secrets list staging`\n"
    )


def test_edit_uses_a_private_temporary_file_that_is_removed(
    home: Path, repo: Path, tmp_path: Path
) -> None:
    shipyard(home, repo, "keygen")
    shipyard(home, repo, "set", "staging", "TOKEN", "--value", "before-edit")
    record = tmp_path / "seen.txt"
    editor = tmp_path / "editor.sh"
    editor.write_text(
        "#!/bin/sh\n"
        f'stat -c "%a %n" "$1" "$(dirname "$1")" > {record}\n'
        'sed -i "s/before-edit/after-edit/" "$1"\n'
    )
    editor.chmod(0o755)
    done = shipyard(home, repo, "edit", "staging", env={"EDITOR": str(editor), "VISUAL": ""})
    assert done.returncode == 0, done.stderr
    file_mode, dir_mode = record.read_text().splitlines()
    assert file_mode.startswith("600 ") and dir_mode.startswith("700 ")
    assert not Path(file_mode.split(" ", 1)[1]).exists()
    assert not Path(dir_mode.split(" ", 1)[1]).exists()
    assert shipyard(home, repo, "get", "staging", "TOKEN").stdout == "after-edit\n"


def test_edit_into_broken_yaml_changes_nothing(home: Path, repo: Path, tmp_path: Path) -> None:
    shipyard(home, repo, "keygen")
    shipyard(home, repo, "set", "staging", "TOKEN", "--value", "keep-me-please")
    before = (repo / ".shipyard/secrets/staging.yaml").read_text()
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nprintf "TOKEN: [unclosed\\nOTHER: x\\n" > "$1"\n')
    editor.chmod(0o755)
    done = shipyard(home, repo, "edit", "staging", env={"EDITOR": str(editor), "VISUAL": ""})
    assert done.returncode == 2
    assert done.stderr.startswith("error: .shipyard/secrets/staging.yaml:")
    assert "Traceback" not in done.stderr
    assert (repo / ".shipyard/secrets/staging.yaml").read_text() == before


def test_recipients_add_lets_another_key_decrypt(home: Path, repo: Path, bob: Key) -> None:
    shipyard(home, repo, "keygen")
    shipyard(home, repo, "set", "production", "TOKEN", "--value", "shared-with-bob")
    added = shipyard(home, repo, "recipients", "add", "production", bob.public)
    assert added.returncode == 0, added.stderr
    assert added.stdout.splitlines()[-1] == bob.public
    assert sops(repo, bob, "decrypt", ".shipyard/secrets/production.yaml").stdout == (
        "TOKEN: shared-with-bob\n"
    )
    bad = shipyard(home, repo, "recipients", "add", "production", "age1nope")
    assert bad.returncode == 2
    assert "is not an age public key" in bad.stderr
