"""The ``sops:`` block of an encrypted file: recipients, data key stanzas, MAC and rules.

Which leaves are encrypted is decided by the same settings SOPS stores in the file
(``unencrypted_suffix``, ``encrypted_suffix``, ``unencrypted_regex``, ``encrypted_regex``), so a
file keeps the rules it was created with whichever tool edits it. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import field, replace
from typing import Any

from shipyard.core import errors
from shipyard.core.frozen import frozen

FORMAT_VERSION = "3.9.0"
"""The SOPS file format version Shipyard writes (the layout of 3.9 and later, which it reads)."""
DEFAULT_UNENCRYPTED_SUFFIX = "_unencrypted"
SUPPORTED_RULES = ("unencrypted_suffix", "encrypted_suffix", "unencrypted_regex", "encrypted_regex")
_UNSUPPORTED_KEYS = ("kms", "gcp_kms", "azure_kv", "hc_vault", "pgp")
_COMMENT_RULES = ("unencrypted_comment_regex", "encrypted_comment_regex")


@frozen
class EncryptionRules:
    """Which leaves SOPS leaves in clear; at most one of the four is set, as SOPS requires."""

    unencrypted_suffix: str | None = DEFAULT_UNENCRYPTED_SUFFIX
    encrypted_suffix: str | None = None
    unencrypted_regex: str | None = None
    encrypted_regex: str | None = None
    mac_only_encrypted: bool = False

    def should_encrypt(self, path: Sequence[str]) -> bool:
        """SOPS's ``shouldBeEncrypted`` for a leaf at ``path`` (every key above it counts)."""
        encrypted = True
        if self.unencrypted_suffix and any(k.endswith(self.unencrypted_suffix) for k in path):
            encrypted = False
        if self.encrypted_suffix:
            encrypted = any(k.endswith(self.encrypted_suffix) for k in path)
        if self.unencrypted_regex and any(re.search(self.unencrypted_regex, k) for k in path):
            encrypted = False
        if self.encrypted_regex:
            encrypted = any(re.search(self.encrypted_regex, k) for k in path)
        return encrypted

    def as_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            name: getattr(self, name) for name in SUPPORTED_RULES if getattr(self, name)
        }
        if self.mac_only_encrypted:
            fields["mac_only_encrypted"] = True
        return fields


@frozen
class AgeStanza:
    """The data key encrypted to one age recipient, as an armored age file."""

    recipient: str
    enc: str


@frozen
class Metadata:
    age: tuple[AgeStanza, ...]
    lastmodified: str
    mac: str
    rules: EncryptionRules = field(default_factory=EncryptionRules)
    version: str = FORMAT_VERSION

    @property
    def recipients(self) -> tuple[str, ...]:
        return tuple(stanza.recipient for stanza in self.age)

    def mac_associated_data(self) -> str:
        """``lastmodified`` as Go formats RFC 3339 in UTC, the MAC's associated data."""
        stamp = self.lastmodified
        return stamp[:-6] + "Z" if stamp.endswith("+00:00") else stamp

    def as_mapping(self) -> dict[str, Any]:
        """The block as SOPS writes it (keys in its order)."""
        block: dict[str, Any] = {
            "age": [{"recipient": s.recipient, "enc": s.enc} for s in self.age],
            "lastmodified": self.lastmodified,
            "mac": self.mac,
        }
        block.update(self.rules.as_fields())
        block["version"] = self.version
        return block

    def with_(self, **changes: Any) -> Metadata:
        return replace(self, **changes)


def read(block: Any, *, where: errors.SourceLocation, file: str) -> Metadata:
    """The ``sops`` block of a file parsed into plain values; problems name the file."""
    if not isinstance(block, Mapping):
        raise _bad(where, "sops", "the `sops` block is not a mapping")
    for key in _COMMENT_RULES:
        if block.get(key):
            raise _bad(where, f"sops.{key}", f"`{key}` is not supported by Shipyard")
    if block.get("key_groups") or block.get("shamir_threshold"):
        raise _bad(where, "sops.key_groups", "key groups (Shamir) are not supported by Shipyard")
    stanzas = []
    for index, entry in enumerate(block.get("age") or []):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("recipient"), str):
            raise _bad(where, f"sops.age[{index}]", "expected `recipient` and `enc`")
        enc = entry.get("enc")
        if not isinstance(enc, str):
            raise _bad(where, f"sops.age[{index}].enc", "the encrypted data key is missing")
        stanzas.append(AgeStanza(entry["recipient"].strip(), enc))
    if not stanzas:
        others = [key for key in _UNSUPPORTED_KEYS if block.get(key)]
        detail = f" (it uses {', '.join(others)})" if others else ""
        raise _bad(where, "sops.age", f"the file has no age recipient{detail}")
    lastmodified, mac = block.get("lastmodified"), block.get("mac")
    if not isinstance(lastmodified, str) or not isinstance(mac, str):
        raise _bad(where, "sops.mac", "`lastmodified` or `mac` is missing")
    rules = EncryptionRules(
        **{name: _text(block.get(name)) for name in SUPPORTED_RULES},
        mac_only_encrypted=bool(block.get("mac_only_encrypted")),
    )
    version = block.get("version")
    return Metadata(
        age=tuple(stanzas),
        lastmodified=lastmodified,
        mac=mac,
        rules=rules,
        version=str(version) if version is not None else FORMAT_VERSION,
    )


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _bad(where: errors.SourceLocation, key_path: str, message: str) -> errors.SpecError:
    return errors.SpecError(
        message,
        location=where,
        key_path=key_path,
        hint="re-create the file with `shipyard secrets set` or `sops`",
    )
