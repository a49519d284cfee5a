"""Reading a SOPS-encrypted YAML file: parse, recover the data key, decrypt, verify the MAC.

This is the hot path (every run and deploy that uses secrets), so the file is parsed with the
positioned libyaml-backed reader of ``shipyard.spec.yamlsource`` rather than a round-trip
parser; ``sops_writer`` owns the slower, comment-preserving path that rewrites a file. Every
error names the file, and where a value is at fault, its line, column and key path. A value or
MAC that does not verify is refused: nothing decrypted from a tampered file is returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import field
from typing import Any

from shipyard.core import errors
from shipyard.core.frozen import frozen
from shipyard.secrets import age_keys, sops_metadata, sops_values
from shipyard.spec import yamlsource

METADATA_KEY = "sops"


@frozen
class EncryptedFile:
    """A parsed file: its data tree as stored (values still encrypted) and its metadata."""

    path: str
    root: yamlsource.MappingNode
    metadata: sops_metadata.Metadata


@frozen
class Decrypted:
    """A file's plaintext: nested dicts, lists and scalars in the file's order."""

    path: str
    values: dict[str, Any] = field(repr=False)
    data_key: bytes = field(repr=False)
    metadata: sops_metadata.Metadata = field(repr=False)

    def names(self) -> list[str]:
        """The top-level keys: the names of the secrets."""
        return list(self.values)

    def scalars(self) -> dict[str, str]:
        """Top-level scalar secrets as the strings a process or expression sees."""
        return {k: as_text(v) for k, v in self.values.items() if _is_scalar(v)}


def as_text(value: sops_values.Scalar) -> str:
    """A secret as an environment variable holds it (booleans ``true``/``false``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return sops_values.format_float(value)
    return str(value)


def parse(text: str, *, path: str) -> EncryptedFile:
    """The data and metadata of an encrypted file. Raises ``SpecError`` at file:line:col."""
    document = yamlsource.parse(text, path=path)
    if document.problems:
        raise errors.SpecErrors(list(document.problems))
    root = document.root
    if not isinstance(root, yamlsource.MappingNode):
        raise errors.SpecError(
            "not a SOPS file: expected a mapping of names to encrypted values",
            location=root.location if root is not None else errors.SourceLocation(path, 1, 1),
            hint="create it with `shipyard secrets set` or `sops`",
        )
    entry = root.entries.get(METADATA_KEY)
    if entry is None:
        raise errors.SpecError(
            "not a SOPS file: the `sops` block is missing",
            location=errors.SourceLocation(path, 1, 1),
            hint="restore the file from version control, or create it with `shipyard secrets set`",
        )
    metadata = sops_metadata.read(
        yamlsource.to_value(entry.value), where=entry.key_location, file=path
    )
    data = {key: item for key, item in root.entries.items() if key != METADATA_KEY}
    return EncryptedFile(path, yamlsource.MappingNode(data, root.location), metadata)


def recover_data_key(file: EncryptedFile, identities: Sequence[age_keys.Identity]) -> bytes:
    """The data key, decrypted with the first identity that is one of the file's recipients."""
    return age_keys.decrypt_data_key(
        [(stanza.recipient, stanza.enc) for stanza in file.metadata.age],
        identities,
        file=file.path,
    )


def decrypt(file: EncryptedFile, identities: Sequence[age_keys.Identity]) -> Decrypted:
    """Every value in clear, after checking each one's tag and the file's MAC."""
    return decrypt_with_key(file, recover_data_key(file, identities))


def decrypt_with_key(file: EncryptedFile, key: bytes) -> Decrypted:
    rules = file.metadata.rules
    macced: list[sops_values.Scalar] = []
    values = _plain_mapping(file.root, (), key, rules, macced)
    expected = _open_mac(file, key)
    actual = sops_values.compute_mac(macced, only_encrypted=rules.mac_only_encrypted)
    if actual != expected:
        raise errors.SpecError(
            "the MAC does not match the values: the file was changed without its key "
            "(a value added, removed, reordered or replaced)",
            location=errors.SourceLocation(file.path, 1, 1),
            key_path="sops.mac",
            hint="restore the file from version control; only edit it with "
            "`shipyard secrets` or `sops`",
        )
    return Decrypted(file.path, values, key, file.metadata)


def _open_mac(file: EncryptedFile, key: bytes) -> str:
    metadata = file.metadata
    try:
        mac = sops_values.decrypt(metadata.mac, key, metadata.mac_associated_data())
    except sops_values.BadValue as error:
        raise errors.SpecError(
            f"the MAC cannot be opened: {error.reason}",
            location=errors.SourceLocation(file.path, 1, 1),
            key_path="sops.mac",
            hint="restore the file from version control (was `sops.lastmodified` edited?)",
        ) from None
    return str(mac)


def _plain_mapping(
    node: yamlsource.MappingNode,
    path: tuple[str, ...],
    key: bytes,
    rules: sops_metadata.EncryptionRules,
    macced: list[sops_values.Scalar],
) -> dict[str, Any]:
    return {
        name: _plain(entry.value, (*path, name), key, rules, macced)
        for name, entry in node.entries.items()
    }


def _plain(
    node: yamlsource.Node,
    path: tuple[str, ...],
    key: bytes,
    rules: sops_metadata.EncryptionRules,
    macced: list[sops_values.Scalar],
) -> Any:
    if isinstance(node, yamlsource.MappingNode):
        return _plain_mapping(node, path, key, rules, macced)
    if isinstance(node, yamlsource.SequenceNode):
        # List items share their key's path, as in SOPS. A comment inside a list is written by
        # SOPS as an item of type `comment`: it is not a value and not covered by the MAC.
        return [
            _plain(item, path, key, rules, macced)
            for item in node.items
            if not sops_values.is_comment_token(getattr(item, "value", None))
        ]
    stored = node.value
    if stored is None:
        return None
    encrypted = rules.should_encrypt(path)
    value: sops_values.Scalar = stored
    if encrypted:
        if not isinstance(stored, str) or not (stored == "" or sops_values.is_encrypted(stored)):
            raise _tampered(node, path, "it is in clear text, but the file's rules encrypt it")
        try:
            value = sops_values.decrypt(stored, key, sops_values.additional_data(path))
        except sops_values.BadValue as error:
            raise _tampered(node, path, error.reason) from None
    if encrypted or not rules.mac_only_encrypted:
        macced.append(value)
    return value


def _tampered(node: yamlsource.Node, path: tuple[str, ...], reason: str) -> errors.SpecError:
    return errors.SpecError(
        f"the value cannot be decrypted: {reason}",
        location=node.location,
        key_path=".".join(path),
        hint="restore the file from version control, or set the value again with "
        "`shipyard secrets set`",
    )


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)
