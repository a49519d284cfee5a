"""Shipyard and the real ``sops`` binary open each other's files, before and after edits."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from ruamel.yaml import YAML

from shipyard.secrets import secret_files, sops_file, sops_rules
from tests.secrets.conftest import Key, sops

NESTED = textwrap.dedent(
    """\
    # who to call
    API_KEY: k-8f2e9c1d4b7a
    db:
        # the primary
        password: hunter2-hunter2
        port: 5432
        ratio: 1.5
        tls: true
    hosts:
        - alpha.internal
        - name: beta
          token: t-0001
    empty: ""
    note_unencrypted: visible to everyone
    multi: |
        line one
        line two
    """
)


def write_rules(root: Path, **by_environment: list[str]) -> None:
    rules = [
        {"path_regex": rf"^\.shipyard/secrets/{env}\.yaml$", "age": ",".join(keys)}
        for env, keys in by_environment.items()
    ]
    (root / ".sops.yaml").write_text(json.dumps({"creation_rules": rules}), encoding="utf-8")


def sops_encrypt_new(root: Path, key: Key, environment: str, plain: str) -> Path:
    path = root / secret_files.relative_path(environment)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(plain, encoding="utf-8")
    sops(root, key, "encrypt", "--in-place", str(path.relative_to(root)))
    return path


def sops_decrypt(root: Path, key: Key, environment: str) -> object:
    done = sops(root, key, "decrypt", secret_files.relative_path(environment))
    return YAML(typ="safe").load(done.stdout)


def test_shipyard_reads_a_nested_file_sops_wrote(repo: Path, alice: Key) -> None:
    write_rules(repo, staging=[alice.public])
    path = sops_encrypt_new(repo, alice, "staging", NESTED)
    assert "hunter2-hunter2" not in path.read_text()
    found = secret_files.require(repo, "staging", [alice.identity])
    assert found.values == {
        "API_KEY": "k-8f2e9c1d4b7a",  # shipyard:allow-secret
        "db": {"password": "hunter2-hunter2", "port": 5432, "ratio": 1.5, "tls": True},
        "hosts": ["alpha.internal", {"name": "beta", "token": "t-0001"}],
        "empty": "",
        "note_unencrypted": "visible to everyone",
        "multi": "line one\nline two\n",
    }
    assert found.scalars()["API_KEY"] == "k-8f2e9c1d4b7a"


def test_sops_reads_what_shipyard_wrote_including_nested_values(repo: Path, alice: Key) -> None:
    secret_files.set_value(repo, "staging", "API_KEY", "k-1234567890", [alice.identity])
    secret_files.set_value(repo, "staging", "db.password", "p@ss word", [alice.identity])
    secret_files.set_value(repo, "staging", "db.user", "app", [alice.identity])
    assert sops_decrypt(repo, alice, "staging") == {
        "API_KEY": "k-1234567890",
        "db": {"password": "p@ss word", "user": "app"},
    }
    # With no rule for the file, Shipyard wrote one naming the key it used, so sops agrees.
    rule = sops_rules.rule_for(repo, ".shipyard/secrets/staging.yaml")
    assert rule is not None and rule.age == (alice.public,)
    # sops edits the file Shipyard wrote; Shipyard verifies the new MAC and reads the change.
    sops(repo, alice, "set", ".shipyard/secrets/staging.yaml", '["db"]["user"]', '"admin"')
    assert secret_files.require(repo, "staging", [alice.identity]).values["db"] == {
        "password": "p@ss word",
        "user": "admin",
    }


def test_edits_by_each_tool_are_read_by_the_other(repo: Path, alice: Key) -> None:
    write_rules(repo, staging=[alice.public])
    sops_encrypt_new(repo, alice, "staging", NESTED)
    sops(
        repo,
        alice,
        "set",
        ".shipyard/secrets/staging.yaml",
        '["db"]["password"]',
        '"changed-by-sops"',
    )
    assert secret_files.require(repo, "staging", [alice.identity]).values["db"]["password"] == (
        "changed-by-sops"
    )
    secret_files.set_value(repo, "staging", "db.password", "changed-by-shipyard", [alice.identity])
    secret_files.set_value(repo, "staging", "NEW_TOKEN", "tok-42-42-42", [alice.identity])
    secret_files.remove(repo, "staging", "API_KEY", [alice.identity])
    plain = sops_decrypt(repo, alice, "staging")
    assert isinstance(plain, dict)
    assert plain["db"] == {
        "password": "changed-by-shipyard",
        "port": 5432,
        "ratio": 1.5,
        "tls": True,
    }
    assert plain["NEW_TOKEN"] == "tok-42-42-42"
    assert "API_KEY" not in plain
    assert plain["hosts"] == ["alpha.internal", {"name": "beta", "token": "t-0001"}]
    assert plain["multi"] == "line one\nline two\n"
    # sops edits it once more and Shipyard still verifies the MAC.
    sops(repo, alice, "set", ".shipyard/secrets/staging.yaml", '["NEW_TOKEN"]', '"tok-43-43-43"')
    assert secret_files.require(repo, "staging", [alice.identity]).values["NEW_TOKEN"] == (
        "tok-43-43-43"
    )


def test_an_unchanged_value_keeps_its_ciphertext(repo: Path, alice: Key) -> None:
    secret_files.set_value(repo, "staging", "KEEP", "same-value-1", [alice.identity])
    before = (repo / ".shipyard/secrets/staging.yaml").read_text()
    secret_files.set_value(repo, "staging", "OTHER", "another-value", [alice.identity])
    after = (repo / ".shipyard/secrets/staging.yaml").read_text()
    keep_line = next(line for line in before.splitlines() if line.startswith("KEEP:"))
    assert keep_line in after.splitlines()


def test_creation_rules_choose_recipients_for_both_tools(repo: Path, alice: Key, bob: Key) -> None:
    write_rules(repo, staging=[alice.public, bob.public], production=[alice.public])
    secret_files.set_value(repo, "staging", "S", "staging-value", [alice.identity])
    secret_files.set_value(repo, "production", "P", "production-value", [alice.identity])
    staging = sops_file.parse(
        (repo / ".shipyard/secrets/staging.yaml").read_text(), path="staging.yaml"
    )
    production = sops_file.parse(
        (repo / ".shipyard/secrets/production.yaml").read_text(), path="production.yaml"
    )
    assert staging.metadata.recipients == (alice.public, bob.public)
    assert production.metadata.recipients == (alice.public,)
    # Bob can open staging with sops, not production; the same as sops itself encrypts them.
    assert sops_decrypt(repo, bob, "staging") == {"S": "staging-value"}
    refused = sops(repo, bob, "decrypt", ".shipyard/secrets/production.yaml", check=False)
    assert refused.returncode != 0
    write_rules(repo, qa=[bob.public])
    path = sops_encrypt_new(repo, alice, "qa", "Q: qa-value\n")
    assert sops_file.parse(path.read_text(), path="qa.yaml").metadata.recipients == (bob.public,)
    assert secret_files.require(repo, "qa", [bob.identity]).values == {"Q": "qa-value"}


def test_rotation_and_recipient_changes_stay_readable_by_sops(
    repo: Path, alice: Key, bob: Key
) -> None:
    secret_files.set_value(repo, "production", "TOKEN", "rotate-me-1", [alice.identity])
    path = repo / ".shipyard/secrets/production.yaml"
    before = path.read_text()
    secret_files.rotate(repo, "production", [alice.identity])
    assert path.read_text() != before
    assert sops_decrypt(repo, alice, "production") == {"TOKEN": "rotate-me-1"}
    secret_files.change_recipients(repo, "production", [alice.identity], add=bob.public)
    assert sops_decrypt(repo, bob, "production") == {"TOKEN": "rotate-me-1"}
    rule = sops_rules.rule_for(repo, ".shipyard/secrets/production.yaml")
    assert rule is not None and rule.age == (alice.public, bob.public)
    secret_files.change_recipients(repo, "production", [alice.identity], remove_key=alice.public)
    assert sops(repo, alice, "decrypt", ".shipyard/secrets/production.yaml", check=False).returncode
    assert secret_files.require(repo, "production", [bob.identity]).values == {
        "TOKEN": "rotate-me-1"
    }


def test_sops_comments_survive_a_rotation(repo: Path, alice: Key) -> None:
    write_rules(repo, staging=[alice.public])
    path = sops_encrypt_new(repo, alice, "staging", NESTED)
    assert path.read_text().count("type:comment]") == 2
    secret_files.rotate(repo, "staging", [alice.identity])
    secret_files.set_value(repo, "staging", "LATER", "added-after-rotation", [alice.identity])
    done = sops(repo, alice, "decrypt", ".shipyard/secrets/staging.yaml")
    assert "# who to call" in done.stdout
    assert "# the primary" in done.stdout
    assert "unencrypted comment" not in done.stderr


def test_clear_text_rules_and_mac_only_encrypted_are_honoured_both_ways(
    repo: Path, alice: Key
) -> None:
    rules = {
        "creation_rules": [
            {
                "path_regex": r"^\.shipyard/secrets/.*\.yaml$",
                "age": alice.public,
                "encrypted_regex": "^(password|token)$",
                "mac_only_encrypted": True,
            }
        ]
    }
    (repo / ".sops.yaml").write_text(json.dumps(rules), encoding="utf-8")
    plain = "db:\n    host: db.internal\n    password: pw-12345678\ntoken: tk-12345678\n"
    path = sops_encrypt_new(repo, alice, "staging", plain)
    assert "host: db.internal" in path.read_text()
    found = secret_files.require(repo, "staging", [alice.identity])
    assert found.values == {
        "db": {"host": "db.internal", "password": "pw-12345678"},
        "token": "tk-12345678",
    }
    secret_files.set_value(repo, "staging", "db.host", "db2.internal", [alice.identity])
    secret_files.set_value(repo, "staging", "token", "tk-87654321", [alice.identity])
    text = path.read_text()
    assert "host: db2.internal" in text and "tk-87654321" not in text
    assert "encrypted_regex: ^(password|token)$" in text and "mac_only_encrypted: true" in text
    assert sops_decrypt(repo, alice, "staging") == {
        "db": {"host": "db2.internal", "password": "pw-12345678"},
        "token": "tk-87654321",  # shipyard:allow-secret
    }
    # With mac_only_encrypted, a clear-text value is outside the MAC: sops and Shipyard agree.
    path.write_text(text.replace("db2.internal", "db3.internal"))
    assert secret_files.require(repo, "staging", [alice.identity]).values["db"]["host"] == (
        "db3.internal"
    )
    assert sops_decrypt(repo, alice, "staging")["db"]["host"] == "db3.internal"  # type: ignore[index]


def test_comments_sops_writes_inside_lists_are_not_values(repo: Path, alice: Key) -> None:
    write_rules(repo, staging=[alice.public])
    plain = "hosts:\n    # the first host\n    - alpha\n    - beta\nTOKEN: tok-12345678\n"
    sops_encrypt_new(repo, alice, "staging", plain)
    found = secret_files.require(repo, "staging", [alice.identity])
    assert found.values == {"hosts": ["alpha", "beta"], "TOKEN": "tok-12345678"}
    secret_files.set_value(repo, "staging", "TOKEN", "tok-87654321", [alice.identity])
    secret_files.rotate(repo, "staging", [alice.identity])
    done = sops(repo, alice, "decrypt", ".shipyard/secrets/staging.yaml")
    assert YAML(typ="safe").load(done.stdout) == {
        "hosts": ["alpha", "beta"],
        "TOKEN": "tok-87654321",  # shipyard:allow-secret
    }
    assert "the first host" in done.stdout


def test_edit_shows_comments_in_clear_and_saves_them_encrypted(repo: Path, alice: Key) -> None:
    from shipyard.secrets import sops_writer

    write_rules(repo, staging=[alice.public])
    sops_encrypt_new(repo, alice, "staging", NESTED)
    document, recipients = secret_files.open_document(repo, "staging", [alice.identity])
    shown = sops_writer.plain_text(document)
    assert shown.startswith("# who to call\nAPI_KEY: k-8f2e9c1d4b7a\n")
    assert "    # the primary\n    password: hunter2-hunter2\n" in shown
    edited = shown.replace("API_KEY:", "# rotate every 90 days\nAPI_KEY:").replace(
        "    port: 5432", "    port: 5432 # the default"
    )
    document.tree = sops_writer.load_tree(edited, path="staging.yaml")
    secret_files.save(repo, "staging", document, recipients)
    text = (repo / ".shipyard/secrets/staging.yaml").read_text()
    for comment in ("who to call", "the primary", "rotate every 90 days", "the default"):
        assert comment not in text
    done = sops(repo, alice, "decrypt", ".shipyard/secrets/staging.yaml")
    for comment in ("# who to call", "# the primary", "# rotate every 90 days", "# the default"):
        assert comment in done.stdout
    assert "unencrypted comment" not in done.stderr
    assert secret_files.require(repo, "staging", [alice.identity]).values["db"]["port"] == 5432


COMMENTED = textwrap.dedent(
    """\
    # top comment
    db:
        # before password
        password: hunter22-x # inline
        port: 5432
        # last in db
    list:
        - a
        - b: c
          # inside an item's mapping
          d: e
    # before empty
    empty: x
    """
)


def test_comments_are_tied_to_the_branch_sops_ties_them_to(repo: Path, alice: Key) -> None:
    from shipyard.secrets import sops_comments, sops_file, sops_writer

    write_rules(repo, staging=[alice.public])
    path = sops_encrypt_new(repo, alice, "staging", COMMENTED)
    text = path.read_text()
    key = sops_file.recover_data_key(sops_file.parse(text, path="s"), [alice.identity])
    document = sops_writer.open_for_change(text, path="s", key=key)
    by_sops = {plain: aad for aad, plain in document.comments.values()}
    assert len(by_sops) == 6
    ours = sops_comments.encrypt(sops_writer.plain_text(document), key, {})
    reopened = sops_writer.open_comments(ours, sops_file.parse(text, path="s"), key)
    assert {plain: aad for aad, plain in reopened.values()} == by_sops
