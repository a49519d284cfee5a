"""Writing a SOPS file: encrypt a plaintext tree, compute its MAC, lay it out as SOPS does.

Every change (set, rm, edit, rotate, a recipient added or removed) goes the way SOPS goes:
decrypt the whole tree, change the plaintext, encrypt the whole tree again. Values whose key path
and plaintext are unchanged keep their IV, and so their exact ciphertext, so a diff of the file
shows only what changed. The tree is ruamel.yaml's round-trip form, so key order and comments
survive; SOPS's own encrypted comments (``#ENC[…]``) are kept as they are. The layout (4-space
indents, the ``sops`` block last, armored data keys as literal blocks) is what ``sops`` writes.
"""

from __future__ import annotations

import datetime
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean
from ruamel.yaml.scalarstring import LiteralScalarString

from shipyard.core import errors
from shipyard.secrets import age_keys, sops_comments, sops_file, sops_metadata, sops_values
from shipyard.spec import yaml_errors

# (associated data, type, plaintext bytes) -> the IV the value was encrypted with.
Stash = dict[tuple[str, str, bytes], bytes]


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.indent(mapping=4, sequence=6, offset=4)
    yaml.width = 1 << 30  # an ENC[...] token must stay on one line
    yaml.preserve_quotes = True
    return yaml


def load_tree(text: str, *, path: str) -> CommentedMap:
    """A YAML mapping in round-trip form; a syntax error is reported at its line and column."""
    try:
        tree = _yaml().load(text)
    except YAMLError as error:
        raise yaml_errors.syntax_error(error, text, path) from None
    if tree is None:
        return CommentedMap()
    if not isinstance(tree, CommentedMap):
        raise errors.SpecError(
            "expected a mapping of names to values",
            location=errors.SourceLocation(path, 1, 1),
            hint="write one `NAME: value` per line",
        )
    return tree


@dataclass
class PlainDocument:
    """A decrypted file ready to change: the plaintext tree and what re-encrypting it needs.

    ``metadata.age`` holds the stanzas that already wrap ``data_key``; a rotation empties them
    (and the stash) along with choosing a new key.
    """

    tree: CommentedMap = field(repr=False)
    data_key: bytes = field(repr=False)
    metadata: sops_metadata.Metadata = field(repr=False)
    stash: Stash = field(default_factory=dict, repr=False)
    comments: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)
    """SOPS's encrypted comments as written -> (associated data, plaintext); they are kept as
    they are, and re-encrypted in place when the data key changes."""
    opened_key: bytes = field(default=b"", repr=False)


def open_for_change(text: str, *, path: str, key: bytes) -> PlainDocument:
    """The plaintext tree of an encrypted file whose data key is known (and MAC verified)."""
    encrypted = sops_file.parse(text, path=path)
    sops_file.decrypt_with_key(encrypted, key)  # verifies every tag and the MAC first
    tree = load_tree(text, path=path)
    del tree[sops_file.METADATA_KEY]
    metadata = encrypted.metadata
    stash: Stash = {}
    comments: dict[str, tuple[str, str]] = {}

    def opened(value: Any, leaf_path: tuple[str, ...]) -> Any:
        if not metadata.rules.should_encrypt(leaf_path) or not sops_values.is_encrypted(value):
            return value
        aad = sops_values.additional_data(leaf_path)
        if sops_values.is_comment_token(value):  # a comment SOPS wrote as a list item: kept
            comments[str(value)] = (aad, str(sops_values.decrypt(str(value), key, aad)))
            return value
        plain = sops_values.decrypt(str(value), key, aad)
        token = sops_values.parse_token(str(value))
        stash[(aad, sops_values.type_name(plain), sops_values.to_bytes(plain))] = token.iv
        if isinstance(plain, str) and "\n" in plain:
            return LiteralScalarString(plain)
        return plain

    _map_leaves(tree, (), opened)
    comments.update(open_comments(text, encrypted, key))
    return PlainDocument(tree, key, metadata, stash, comments, key)


def new_document(rules: sops_metadata.EncryptionRules) -> PlainDocument:
    metadata = sops_metadata.Metadata(age=(), lastmodified="", mac="", rules=rules)
    key = sops_values.new_data_key()
    return PlainDocument(CommentedMap(), key, metadata, opened_key=key)


def render(document: PlainDocument, recipients: Iterable[str]) -> str:
    """The encrypted file's text for ``recipients`` (each given the data key)."""
    wanted = list(dict.fromkeys(recipients))
    if not wanted:
        raise errors.UsageError(
            "a secrets file needs at least one recipient",
            hint="add one with `shipyard secrets recipients add ENV AGE_PUBLIC_KEY`",
        )
    key, rules = document.data_key, document.metadata.rules
    tree = _copy(document.tree)
    macced: list[sops_values.Scalar] = []

    def sealed(value: Any, leaf_path: tuple[str, ...]) -> Any:
        if value is None or str(value) in document.comments:
            return value
        plain = scalar(value)
        encrypted = rules.should_encrypt(leaf_path)
        if encrypted or not rules.mac_only_encrypted:
            macced.append(plain)
        if not encrypted:
            return value
        aad = sops_values.additional_data(leaf_path)
        iv = document.stash.get((aad, sops_values.type_name(plain), sops_values.to_bytes(plain)))
        return sops_values.encrypt(plain, key, aad, iv)

    _map_leaves(tree, (), sealed)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    mac = sops_values.compute_mac(macced, only_encrypted=rules.mac_only_encrypted)
    previous = {s.recipient: s for s in document.metadata.age}
    stanzas = tuple(
        previous[r]
        if r in previous
        else sops_metadata.AgeStanza(r, age_keys.encrypt_data_key(key, r))
        for r in wanted
    )
    metadata = document.metadata.with_(
        age=stanzas, lastmodified=stamp, mac=sops_values.encrypt(mac, key, stamp)
    )
    tree[sops_file.METADATA_KEY] = _metadata_tree(metadata)
    buffer = io.StringIO()
    _yaml().dump(tree, buffer)
    written = buffer.getvalue()
    if key != document.opened_key:
        for token, (aad, plain) in document.comments.items():
            written = written.replace(token, sops_values.encrypt(plain, key, aad, kind="comment"))
    known = document.comments if key == document.opened_key else {}
    return sops_comments.encrypt(written, key, known)


# A SOPS-encrypted comment line: ``#ENC[AES256_GCM,...,type:comment]``.
_COMMENT_TOKEN = re.compile(r"#\s*(ENC\[AES256_GCM,[^\]\s]*type:comment\])")


def open_comments(
    text: str, encrypted: sops_file.EncryptedFile, key: bytes
) -> dict[str, tuple[str, str]]:
    """Each encrypted comment's plaintext and associated data (its branch's key path).

    Which branch SOPS tied a comment to follows from how its YAML parser attaches comments;
    rather than guess, every branch path of the document is tried (a wrong one fails the tag).
    A comment no path opens is left alone, as SOPS leaves it.
    """
    tokens = set(_COMMENT_TOKEN.findall(text))
    if not tokens:
        return {}
    candidates = [":", *(sops_values.additional_data(p) for p in _branch_paths(encrypted.root))]
    found: dict[str, tuple[str, str]] = {}
    for token in tokens:
        for aad in candidates:
            try:
                plain = sops_values.decrypt(token, key, aad)
            except sops_values.BadValue:
                continue
            found[token] = (aad, str(plain))
            break
    return found


def _branch_paths(node: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    from shipyard.spec import yamlsource

    paths: list[tuple[str, ...]] = []
    if isinstance(node, yamlsource.MappingNode):
        if path:
            paths.append(path)
        for name, entry in node.entries.items():
            paths.extend(_branch_paths(entry.value, (*path, name)))
    elif isinstance(node, yamlsource.SequenceNode):
        paths.append(path)
        for item in node.items:
            paths.extend(_branch_paths(item, path))
    return list(dict.fromkeys(paths))


def scalar(value: Any) -> sops_values.Scalar:
    """A round-trip YAML scalar as the plain type SOPS encrypts it with."""
    if isinstance(value, ScalarBoolean | bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def _metadata_tree(metadata: sops_metadata.Metadata) -> CommentedMap:
    block = CommentedMap()
    for key, value in metadata.as_mapping().items():
        if key == "age":
            entries = CommentedSeq()
            for stanza in value:
                entry = CommentedMap()
                entry["recipient"] = stanza["recipient"]
                entry["enc"] = LiteralScalarString(stanza["enc"])
                entries.append(entry)
            block["age"] = entries
        else:
            block[key] = value
    return block


def _map_leaves(
    node: Any, path: tuple[str, ...], change: Callable[[Any, tuple[str, ...]], Any]
) -> None:
    """Replace each leaf under ``node`` with ``change(leaf, its key path)``, in document order."""
    if isinstance(node, dict):
        for name in list(node):
            value = node[name]
            if isinstance(value, dict | list):
                _map_leaves(value, (*path, str(name)), change)
            else:
                # Not ``node[name] = ...``: ruamel would keep the old value's style (``|``).
                dict.__setitem__(node, name, change(value, (*path, str(name))))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if isinstance(value, dict | list):
                _map_leaves(value, path, change)
            else:
                list.__setitem__(node, index, change(value, path))


def _copy(tree: CommentedMap) -> CommentedMap:
    """A deep copy that keeps comments (ruamel's own ``copy`` semantics)."""
    import copy

    return copy.deepcopy(tree)


def plain_text(document: PlainDocument) -> str:
    """The decrypted tree as YAML, for a person to edit (the ``sops`` block left out)."""
    buffer = io.StringIO()
    _yaml().dump(document.tree, buffer)
    return sops_comments.show(buffer.getvalue(), document.comments)
