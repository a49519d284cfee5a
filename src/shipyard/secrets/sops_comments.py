"""Comments in a SOPS file: encrypted as SOPS encrypts them, shown in clear for editing.

SOPS encrypts each comment line (``#ENC[…,type:comment]``) with the key path of the mapping or
list that holds it as associated data: ``:`` at the top, ``db:`` inside ``db``. Which branch
holds a comment line is read from the text: the branch of the next key or list item at the
comment's indentation, else of the previous one (a comment that ends a block). A comment after
an encrypted value on the same line belongs to that value's branch. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

from shipyard.secrets import sops_values
from shipyard.spec import yamlsource

_FULL_LINE = re.compile(r"^(?P<indent> *)#(?P<body>.*)$")
_AFTER_VALUE = re.compile(r"^(?P<head>.*ENC\[AES256_GCM,[^\]\s]*\]) +#(?P<body>.*)$")
_TOKEN = "ENC[AES256_GCM,"


class _Node(NamedTuple):
    line: int
    indent: int
    aad: str


def show(text: str, comments: Mapping[str, tuple[str, str]]) -> str:
    """``text`` with each encrypted comment it knows replaced by its plaintext."""
    for token, (_, plain) in comments.items():
        text = text.replace(f"#{token}", f"#{plain}")
    return text


def encrypt(text: str, key: bytes, known: Mapping[str, tuple[str, str]]) -> str:
    """Every clear-text comment of ``text`` encrypted where it stands.

    A comment that was already encrypted, with the same text in the same branch, keeps its
    token when ``known`` holds it under this key, so unchanged comments do not churn in diffs.
    """
    reuse = {pair: token for token, pair in known.items()}
    lines = text.split("\n")
    end = next((i for i, line in enumerate(lines) if line.startswith("sops:")), len(lines))
    nodes = _nodes("\n".join(lines[:end]))
    for index in range(end):
        line = lines[index]
        full = _FULL_LINE.match(line)
        if full is not None:
            body = full.group("body")
            if not body or body.startswith(_TOKEN):
                continue
            indent = len(full.group("indent"))
            aad = _branch(nodes, index + 1, indent)
            lines[index] = f"{full.group('indent')}#{_token(body, key, aad, reuse)}"
            continue
        inline = _AFTER_VALUE.match(line)
        if inline is not None and not inline.group("body").startswith(_TOKEN):
            aad = next((node.aad for node in nodes if node.line == index + 1), ":")
            token = _token(inline.group("body"), key, aad, reuse)
            lines[index] = f"{inline.group('head')} #{token}"
    return "\n".join(lines)


def _token(body: str, key: bytes, aad: str, reuse: Mapping[tuple[str, str], str]) -> str:
    return reuse.get((aad, body)) or sops_values.encrypt(body, key, aad, kind="comment")


def _nodes(text: str) -> list[_Node]:
    """Each key and list item of the data: its line, its indentation and its branch's AAD."""
    found: list[_Node] = []
    root = yamlsource.parse(text, path="comments").root if text.strip() else None

    def walk(node: yamlsource.Node | None, path: tuple[str, ...]) -> None:
        aad = sops_values.additional_data(path)
        if isinstance(node, yamlsource.MappingNode):
            for name, entry in node.entries.items():
                found.append(_Node(entry.key_location.line, entry.key_location.column - 1, aad))
                walk(entry.value, (*path, name))
        elif isinstance(node, yamlsource.SequenceNode):
            for item in node.items:
                # The item's position is its value's; the dash stands two columns before it.
                found.append(_Node(item.location.line, max(item.location.column - 3, 0), aad))
                walk(item, path)

    walk(root, ())
    return sorted(found)


def _branch(nodes: list[_Node], line: int, indent: int) -> str:
    """The AAD of the branch a comment at ``line`` and ``indent`` belongs to."""
    for node in nodes:
        if node.line <= line:
            continue
        if node.indent == indent:
            return node.aad
        if node.indent < indent:
            break
    for node in reversed(nodes):
        if node.line < line and node.indent == indent:
            return node.aad
        if node.line < line and node.indent < indent:
            break
    return ":"
