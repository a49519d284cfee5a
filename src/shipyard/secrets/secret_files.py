"""An environment's secrets file, ``.shipyard/secrets/<environment>.yaml``: read and change it.

Each change decrypts the file, changes the plaintext and writes the whole file again through a
temporary file and ``os.replace``, so a failure at any point (a wrong key, a tampered value, a
full disk) leaves the previous file exactly as it was. A new file is encrypted to the recipients
of its ``.sops.yaml`` rule; with no rule, to the keys at hand, and a rule is written for it, so
``sops`` encrypts the file to the same people.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.core import errors
from shipyard.secrets import age_keys, sops_file, sops_metadata, sops_rules, sops_values

if TYPE_CHECKING:
    # Reading never needs the round-trip YAML writer (and its start-up cost); changing does.
    from shipyard.secrets import sops_writer
from shipyard.spec import project_values

SECRETS_DIR = ".shipyard/secrets"


def relative_path(environment: str) -> str:
    """Where an environment's secrets live, relative to the repository root."""
    if not project_values.NAME_PATTERN.match(environment):
        raise errors.UsageError(
            f"invalid environment name `{environment}`", hint=f"use {project_values.NAME_RULE}"
        )
    return f"{SECRETS_DIR}/{environment}.yaml"


def file_path(root: Path, environment: str) -> Path:
    return root / relative_path(environment)


def read(
    root: Path, environment: str, identities: Sequence[age_keys.Identity]
) -> sops_file.Decrypted | None:
    """The decrypted secrets of ``environment``; None when it has no secrets file."""
    path = file_path(root, environment)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise errors.UserError(f"cannot read {path}: {error.strerror}") from None
    parsed = sops_file.parse(text, path=relative_path(environment))
    return sops_file.decrypt(parsed, identities)


def require(
    root: Path, environment: str, identities: Sequence[age_keys.Identity]
) -> sops_file.Decrypted:
    found = read(root, environment, identities)
    if found is None:
        raise errors.UsageError(
            f"environment `{environment}` has no secrets ({relative_path(environment)} does not "
            "exist)",
            hint=f"add one with `shipyard secrets set {environment} NAME`",
        )
    return found


def split_name(name: str) -> list[str]:
    """``db.password`` -> ``["db", "password"]``: a nested value's key path."""
    parts = name.split(".")
    if not all(parts):
        raise errors.UsageError(f"invalid secret name `{name}`", hint="e.g. API_KEY or db.password")
    return parts


def open_document(
    root: Path, environment: str, identities: Sequence[age_keys.Identity]
) -> tuple[sops_writer.PlainDocument, list[str]]:
    """The file's plaintext tree and its recipients; a new, empty one when there is no file."""
    from shipyard.secrets import sops_writer

    path = file_path(root, environment)
    relative = relative_path(environment)
    if not path.exists():
        rule = sops_rules.rule_for(root, relative)
        rules = rule.rules if rule is not None else sops_metadata.EncryptionRules()
        recipients = list(rule.age) if rule is not None and rule.age else []
        if not recipients:
            recipients = sorted({identity.public for identity in identities})
        if not recipients:
            raise errors.UserError(
                f"no recipient for {relative}: no `.sops.yaml` rule names one and you have no "
                "age key",
                hint="create a key with `shipyard secrets keygen`",
            )
        return sops_writer.new_document(rules), recipients
    text = path.read_text(encoding="utf-8")
    parsed = sops_file.parse(text, path=relative)
    key = sops_file.recover_data_key(parsed, identities)
    document = sops_writer.open_for_change(text, path=relative, key=key)
    return document, list(parsed.metadata.recipients)


def save(
    root: Path, environment: str, document: sops_writer.PlainDocument, recipients: list[str]
) -> None:
    """Encrypt and write the file; a ``.sops.yaml`` rule is added when none matches it."""
    from shipyard.secrets import sops_writer

    relative = relative_path(environment)
    text = sops_writer.render(document, recipients)
    rules_text = None
    if sops_rules.rule_for(root, relative) is None:
        rules_text = sops_rules.set_recipients(root, relative, recipients)
    write_atomic(file_path(root, environment), text)
    if rules_text is not None:
        write_atomic(root / sops_rules.CONFIG_FILE, rules_text)


def set_value(
    root: Path,
    environment: str,
    name: str,
    value: str,
    identities: Sequence[age_keys.Identity],
) -> None:
    from ruamel.yaml.comments import CommentedMap

    document, recipients = open_document(root, environment, identities)
    *parents, leaf = split_name(name)
    node = document.tree
    for part in parents:
        child = node.get(part)
        if not isinstance(child, CommentedMap):
            if child is not None:
                raise errors.UsageError(
                    f"`{part}` in {name} is a value, not a group of secrets",
                    hint=f"remove it first with `shipyard secrets rm {environment} {part}`",
                )
            child = CommentedMap()
            node[part] = child
        node = child
    node[leaf] = value
    save(root, environment, document, recipients)


def remove(
    root: Path, environment: str, name: str, identities: Sequence[age_keys.Identity]
) -> None:
    document, recipients = open_document(root, environment, identities)
    *parents, leaf = split_name(name)
    node: Any = document.tree
    for part in parents:
        node = node.get(part) if isinstance(node, dict) else None
    if not isinstance(node, dict) or leaf not in node:
        raise errors.UsageError(
            f"environment `{environment}` has no secret `{name}`",
            hint=f"list them with `shipyard secrets list {environment}`",
        )
    del node[leaf]
    save(root, environment, document, recipients)


def rotate(
    root: Path,
    environment: str,
    identities: Sequence[age_keys.Identity],
    recipients: list[str] | None = None,
) -> list[str]:
    """Re-encrypt every value with a new data key (to ``recipients``, default: the same)."""
    document, current = open_document(root, environment, identities)
    if not file_path(root, environment).exists():
        raise errors.UsageError(f"environment `{environment}` has no secrets to rotate")
    document.data_key = sops_values.new_data_key()
    document.stash.clear()
    document.metadata = document.metadata.with_(age=())
    wanted = recipients if recipients is not None else current
    save(root, environment, document, wanted)
    return wanted


def change_recipients(
    root: Path,
    environment: str,
    identities: Sequence[age_keys.Identity],
    *,
    add: str | None = None,
    remove_key: str | None = None,
) -> list[str]:
    """Add or remove a recipient in ``.sops.yaml`` and re-encrypt the file to the new set.

    Removing one also rotates the data key: the removed holder knew the old one.
    """
    from shipyard.secrets import sops_writer

    relative = relative_path(environment)
    document, current = open_document(root, environment, identities)
    exists = file_path(root, environment).exists()
    wanted = list(current)
    if add is not None:
        age_keys.parse_recipient(add, where="recipients add")
        if add in wanted:
            raise errors.UsageError(f"{add} is already a recipient of {relative}")
        wanted.append(add)
    if remove_key is not None:
        if remove_key not in wanted:
            raise errors.UsageError(
                f"{remove_key} is not a recipient of {relative}",
                hint=f"its recipients are: {', '.join(wanted)}",
            )
        wanted.remove(remove_key)
        if not wanted:
            raise errors.UsageError(
                f"{remove_key} is the last recipient of {relative}",
                hint="add another recipient first, or nobody could open the file",
            )
        document.data_key = sops_values.new_data_key()
        document.stash.clear()
        document.metadata = document.metadata.with_(age=())
    rules_text = sops_rules.set_recipients(root, relative, wanted)
    if exists:
        write_atomic(file_path(root, environment), sops_writer.render(document, wanted))
    write_atomic(root / sops_rules.CONFIG_FILE, rules_text)
    return wanted


def write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    """Replace ``path`` with ``text`` all at once: a reader sees the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
