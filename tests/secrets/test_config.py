"""Resolving an environment's config: layers, secrets and vars, types, missing secrets, CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from shipyard.core import errors
from shipyard.secrets import config, secret_files
from shipyard.spec import project_loader
from tests.secrets.conftest import Key

PROJECT = """\
app: shop
services: {web: {run: python -m shop}}
vars: {REGION: eu-west}
config:
  LOG_LEVEL: {type: enum, values: [debug, info], default: info}
  WORKERS: {type: int, default: 2}
  DATABASE_URL: postgres://app:${{ secrets.DB_PASSWORD }}@db/${{ vars.REGION }}
  API_TOKEN: ${{ secrets.API_TOKEN }}
environments:
  staging:
    config: {LOG_LEVEL: debug}
  production:
    vars: {REGION: us-east}
    config: {WORKERS: 8}
"""


def write_project(root: Path, text: str = PROJECT) -> None:
    (root / "shipyard.yaml").write_text(text, encoding="utf-8")


def load(root: Path):  # type: ignore[no-untyped-def]
    return project_loader.load_project_file(root / "shipyard.yaml", display_path="shipyard.yaml")


@pytest.fixture
def project_root(repo: Path, alice: Key) -> Path:
    write_project(repo)
    for environment, password, token in (
        ("staging", "stage-pass-1", "tok-staging-1"),
        ("production", "prod-pass-1", "tok-shared-1"),
    ):
        secret_files.set_value(repo, environment, "DB_PASSWORD", password, [alice.identity])
        secret_files.set_value(repo, environment, "API_TOKEN", token, [alice.identity])
    return repo


def test_layers_secrets_and_vars(project_root: Path, alice: Key) -> None:
    resolved = config.resolve(
        load(project_root),
        "production",
        overrides={"LOG_LEVEL": "debug"},
        repo_root=project_root,
        keys=[alice.identity],
    )
    assert resolved.values == {
        "LOG_LEVEL": "debug",
        "WORKERS": "8",
        "DATABASE_URL": "postgres://app:prod-pass-1@db/us-east",  # shipyard:allow-secret
        "API_TOKEN": "tok-shared-1",  # shipyard:allow-secret
    }
    assert resolved.secret_keys == {"DATABASE_URL", "API_TOKEN"}
    assert resolved.sources == {
        "LOG_LEVEL": "--set",
        "WORKERS": "environments.production.config",
        "DATABASE_URL": "config",
        "API_TOKEN": "config",
    }
    assert resolved.redacted()["DATABASE_URL"] == "<secret>"
    assert (
        resolved.masker().mask("url=postgres://app:prod-pass-1@db") == "url=postgres://app:***@db"
    )


def test_config_without_secrets_needs_no_key(repo: Path) -> None:
    write_project(repo, "app: a\nservices: {w: {run: x}}\nconfig: {A: one}\nenvironments: {qa: }\n")
    resolved = config.resolve(load(repo), "qa", repo_root=repo, keys=[])
    assert resolved.values == {"A": "one"} and resolved.secret_keys == frozenset()


def test_every_missing_secret_is_listed(project_root: Path, alice: Key) -> None:
    text = PROJECT + ("  qa:\n    config: {EXTRA: '${{ secrets.EXTRA_KEY }}'}\n")
    write_project(project_root, text)
    with pytest.raises(errors.UserError) as caught:
        config.resolve(load(project_root), "qa", repo_root=project_root, keys=[alice.identity])
    assert caught.value.message == (
        "environment `qa` refers to 3 missing secrets: API_TOKEN, DB_PASSWORD, EXTRA_KEY"
    )
    assert caught.value.hint is not None
    assert "shipyard.yaml:7:17 (config.DATABASE_URL)" in caught.value.hint
    assert "EXTRA_KEY at shipyard.yaml:16:21 (environments.qa.config.EXTRA)" in caught.value.hint


def test_a_value_of_the_wrong_type_from_a_secret_is_refused_without_showing_it(
    project_root: Path, alice: Key
) -> None:
    write_project(
        project_root, PROJECT.replace("{WORKERS: 8}", "{WORKERS: '${{ secrets.API_TOKEN }}'}")
    )
    with pytest.raises(errors.SpecErrors) as caught:
        config.resolve(
            load(project_root), "production", repo_root=project_root, keys=[alice.identity]
        )
    assert caught.value.headline() == (
        "shipyard.yaml:14:23: environments.production.config.WORKERS: "
        "expected an integer, found `<secret>`"
    )
    assert "tok-shared-1" not in caught.value.render()


def shipyard(root: Path, alice: Key, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shipyard", "config", *args],
        cwd=root,
        env={
            **os.environ,
            "SHIPYARD_HOME": str(root / "home"),
            "SHIPYARD_AGE_KEY_FILE": str(alice.file),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_config_show_redacts_and_diff_compares_secrets_by_keyed_hash(
    project_root: Path, alice: Key
) -> None:
    shown = shipyard(project_root, alice, "show", "staging")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == textwrap.dedent(
        """\
        LOG_LEVEL=debug        # environments.staging.config
        WORKERS=2              # config
        DATABASE_URL=<secret>  # config
        API_TOKEN=<secret>     # config
        """
    )
    diff = shipyard(project_root, alice, "diff", "staging", "production")
    assert diff.stdout == textwrap.dedent(
        """\
        ~ LOG_LEVEL: debug -> info
        ~ WORKERS: 2 -> 8
        ~ DATABASE_URL: differs (secret)
        ~ API_TOKEN: differs (secret)
        """
    )
    secret_files.set_value(project_root, "staging", "API_TOKEN", "tok-shared-1", [alice.identity])
    again = shipyard(project_root, alice, "diff", "staging", "production")
    assert "API_TOKEN" not in again.stdout
    assert "tok-" not in again.stdout + again.stderr + shown.stdout


def test_no_repr_carries_a_secret(project_root: Path, alice: Key) -> None:
    from shipyard.secrets import sops_writer

    resolved = config.resolve(
        load(project_root), "production", repo_root=project_root, keys=[alice.identity]
    )
    decrypted = secret_files.require(project_root, "production", [alice.identity])
    document, _ = secret_files.open_document(project_root, "production", [alice.identity])
    for shown in (repr(resolved), repr(decrypted), repr(document)):
        assert "prod-pass-1" not in shown and "tok-shared-1" not in shown
    assert isinstance(document, sops_writer.PlainDocument)
