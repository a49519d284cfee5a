"""One SOPS value: AES-256-GCM with the key path as associated data, and the file's MAC.

SOPS encrypts every leaf of a document on its own with the file's 32-byte data key, a random
32-byte IV and the leaf's key path (``db:password:``) as associated data, so a value moved to
another key no longer decrypts. The result is written ``ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]``
and the type (``str``, ``int``, ``float``, ``bool``) comes back on decryption. The MAC is SHA-512
over every value's bytes in document order, encrypted like a value with ``lastmodified`` as
associated data. These rules are SOPS's own (its ``aes`` cipher and ``Tree.Encrypt``); matching
them byte for byte is what lets the ``sops`` command open Shipyard's files and the reverse.

Never does I/O and never decides which file or key to use; ``sops_file`` does.
"""

from __future__ import annotations

import base64
import binascii
import decimal
import hashlib
import math
import os
import re
from collections.abc import Iterable, Sequence
from typing import TypeAlias

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shipyard.core.frozen import frozen

Scalar: TypeAlias = str | int | float | bool
"""A leaf value of a secrets document (null leaves are neither encrypted nor covered by the MAC)."""

IV_SIZE = 32
TAG_SIZE = 16
DATA_KEY_SIZE = 32
# Written first into the MAC when ``mac_only_encrypted`` is set: SHA-256 of ``sops`` (as SOPS).
_MAC_ONLY_ENCRYPTED_INIT = hashlib.sha256(b"sops").digest()
_TOKEN = re.compile(r"^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]")


class BadValue(Exception):
    """A value that does not decrypt: altered, moved to another key, or not SOPS's format."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_encrypted(value: object) -> bool:
    """Whether a stored leaf is an ``ENC[...]`` token."""
    return isinstance(value, str) and value.startswith("ENC[AES256_GCM,")


def is_comment_token(value: object) -> bool:
    """Whether a stored leaf is one of SOPS's encrypted comments (``type:comment``)."""
    return is_encrypted(value) and str(value).endswith(",type:comment]")


def additional_data(path: Sequence[str]) -> str:
    """The associated data of a leaf at ``path``: its keys joined by ``:``, ending in ``:``."""
    return ":".join(path) + ":"


def new_data_key() -> bytes:
    return os.urandom(DATA_KEY_SIZE)


def to_bytes(value: Scalar) -> bytes:
    """The bytes SOPS encrypts and hashes for a value (booleans ``True``/``False``, as SOPS)."""
    if isinstance(value, bool):
        return b"True" if value else b"False"
    if isinstance(value, int):
        return str(value).encode()
    if isinstance(value, float):
        return format_float(value).encode()
    return value.encode("utf-8")


def format_float(value: float) -> str:
    """The shortest decimal without an exponent, as Go's ``FormatFloat(v, 'f', -1, 64)``."""
    if math.isnan(value) or math.isinf(value):
        return {"nan": "NaN", "inf": "+Inf", "-inf": "-Inf"}[repr(value)]
    text = format(decimal.Decimal(repr(value)).normalize(), "f")
    return "-0" if text == "0" and str(value).startswith("-") else text


def type_name(value: Scalar) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return "str"


def encrypt(
    value: Scalar, key: bytes, aad: str, iv: bytes | None = None, *, kind: str | None = None
) -> str:
    """``value`` as an ``ENC[...]`` token; an empty string stays empty (as SOPS leaves it).

    ``kind`` overrides the type written (``comment`` for SOPS's encrypted comments).
    """
    if value == "" and isinstance(value, str):
        return ""
    nonce = iv if iv is not None else os.urandom(IV_SIZE)
    sealed = AESGCM(key).encrypt(nonce, to_bytes(value), aad.encode("utf-8"))
    data, tag = sealed[:-TAG_SIZE], sealed[-TAG_SIZE:]
    return (
        f"ENC[AES256_GCM,data:{_b64(data)},iv:{_b64(nonce)},tag:{_b64(tag)},"
        f"type:{kind or type_name(value)}]"
    )


@frozen
class Token:
    """The parts of an ``ENC[...]`` token."""

    data: bytes
    iv: bytes
    tag: bytes
    kind: str


def parse_token(token: str) -> Token:
    found = _TOKEN.match(token)
    if found is None:
        raise BadValue("it is not a SOPS value (expected ENC[AES256_GCM,data:…,type:…])")
    try:
        data, iv, tag = (base64.b64decode(found.group(i), validate=True) for i in (1, 2, 3))
    except (binascii.Error, ValueError):
        raise BadValue("its data, iv or tag is not valid base64") from None
    return Token(data, iv, tag, found.group(4))


def decrypt(token: str, key: bytes, aad: str) -> Scalar:
    """The value of an ``ENC[...]`` token, checked against its tag and its key path."""
    if token == "":
        return ""
    parts = parse_token(token)
    if not 8 <= len(parts.iv) <= 128 or len(parts.tag) != TAG_SIZE:
        raise BadValue("its iv or tag has the wrong length")
    try:
        plain = AESGCM(key).decrypt(parts.iv, parts.data + parts.tag, aad.encode("utf-8"))
    except InvalidTag:
        raise BadValue(
            "its authentication tag does not match: the value was altered, or moved from "
            "another key"
        ) from None
    return _typed(plain, parts.kind)


def _typed(plain: bytes, kind: str) -> Scalar:
    text = plain.decode("utf-8", errors="replace")
    try:
        if kind in ("str", "bytes", "comment"):
            return text
        if kind in ("int", "int64"):
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "bool":
            return _parse_bool(text)
    except ValueError:
        raise BadValue(f"its plaintext `{text}` is not a valid {kind}") from None
    raise BadValue(f"unknown value type `{kind}`")


def _parse_bool(text: str) -> bool:
    # Go's strconv.ParseBool, which SOPS uses.
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise ValueError(text)


def compute_mac(values: Iterable[Scalar], *, only_encrypted: bool = False) -> str:
    """SHA-512 over the values' bytes in document order, as upper-case hex (SOPS's MAC)."""
    digest = hashlib.sha512()
    if only_encrypted:
        digest.update(_MAC_ONLY_ENCRYPTED_INIT)
    for value in values:
        digest.update(to_bytes(value))
    return digest.hexdigest().upper()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
