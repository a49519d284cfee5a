"""Age keys, a repository root and the real ``sops`` binary for the secrets tests."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pyrage  # type: ignore[import-untyped]
import pytest

from shipyard.secrets import age_keys

SOPS = Path(sys.executable).parent / "sops"


@dataclass
class Key:
    identity: age_keys.Identity
    file: Path

    @property
    def public(self) -> str:
        return self.identity.public


def make_key(directory: Path, name: str) -> Key:
    secret = pyrage.x25519.Identity.generate()
    path = directory / f"{name}.txt"
    path.write_text(f"# public key: {secret.to_public()}\n{secret}\n", encoding="utf-8")
    path.chmod(0o600)
    return Key(age_keys.parse_identities(path.read_text(), source=str(path))[0], path)


@pytest.fixture
def alice(tmp_path: Path) -> Key:
    (tmp_path / "keys").mkdir(exist_ok=True)
    return make_key(tmp_path / "keys", "alice")


@pytest.fixture
def bob(tmp_path: Path) -> Key:
    (tmp_path / "keys").mkdir(exist_ok=True)
    return make_key(tmp_path / "keys", "bob")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    return root


def sops(
    root: Path, key: Key, *args: str, check: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The real ``sops`` in ``root`` (where it finds ``.sops.yaml``), holding ``key``."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(root),
        "SOPS_AGE_KEY_FILE": str(key.file),
    }
    done = subprocess.run(
        [str(SOPS), *args],
        cwd=root,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"sops {' '.join(args)} failed: {done.stderr}")
    return done
