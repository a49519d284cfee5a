"""The feature-flag parts of ``shipyard.yaml``: the flags file and per-environment overrides.

```yaml
flags: flags.json                  # flagd's JSON format, relative to the repository root
environments:
  staging:
    flags:
      new-checkout: { state: ENABLED, defaultVariant: "on" }
      banner:
        targeting: { fractional: [["on", 10], ["off", 90]] }
```

An override replaces some of a flag's ``state``, ``defaultVariant`` and ``targeting``. This
module only reads and checks their shape, each problem at file:line:col; ``shipyard.flags``
applies them to the flags file and validates the result as a flag. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from shipyard.core import errors
from shipyard.core.frozen import frozen
from shipyard.spec import node_reader, yamlsource
from shipyard.spec.node_reader import join

OVERRIDE_KEYS = frozenset({"state", "defaultVariant", "targeting"})
STATES = ("ENABLED", "DISABLED")


@frozen
class FlagOverride:
    """One environment's changes to one flag, in flagd's field names."""

    flag: str
    fields: Mapping[str, Any]
    location: errors.SourceLocation | None = None


@frozen
class FlagSettings:
    """The ``flags:`` key: where the flags file is (None: the project has no flags)."""

    file: str | None = None
    location: errors.SourceLocation | None = None


def read_flags_file(reader: node_reader.NodeReader, node: yamlsource.Node) -> FlagSettings:
    """The top-level ``flags:`` value: a relative path inside the repository."""
    text = reader.string(node, "flags", strict=True, non_empty=True)
    if text is None:
        return FlagSettings()
    path = PurePosixPath(text)
    if path.is_absolute() or ".." in path.parts:
        reader.error(
            node.location,
            "flags",
            f"the flags file `{text}` must be inside the repository",
            "give a path relative to the repository root, e.g. `flags: flags.json`",
        )
        return FlagSettings()
    return FlagSettings(file=str(path), location=node.location)


def read_environment_flags(
    reader: node_reader.NodeReader, node: yamlsource.Node, path: str
) -> dict[str, FlagOverride]:
    """``environments.<env>.flags``: flag key -> override."""
    mapping = reader.mapping(node, path, "a mapping of flag key -> {state, defaultVariant, ...}")
    if mapping is None:
        return {}
    found: dict[str, FlagOverride] = {}
    for key, entry in mapping.entries.items():
        where = join(path, key)
        body = reader.mapping(
            entry.value, where, "a mapping with state, defaultVariant or targeting"
        )
        if body is None:
            continue
        reader.check_keys(body, where, OVERRIDE_KEYS)
        fields: dict[str, Any] = {}
        for name, item in body.entries.items():
            value = _field(reader, name, item.value, join(where, name))
            if value is not _INVALID and name in OVERRIDE_KEYS:
                fields[name] = value
        found[key] = FlagOverride(key, fields, entry.key_location)
    return found


_INVALID: Any = object()


def _field(reader: node_reader.NodeReader, name: str, node: yamlsource.Node, path: str) -> Any:
    if name == "state":
        return reader.choice(node, path, STATES, "state") or _INVALID
    if name == "defaultVariant":
        if isinstance(node, yamlsource.ScalarNode) and node.value is None:
            return None
        value = reader.string(node, path)
        return _INVALID if value is None else value
    if name == "targeting":
        if isinstance(node, yamlsource.ScalarNode) and node.value is None:
            return None
        mapping = reader.mapping(node, path, "a JsonLogic rule (a mapping), or null")
        return _INVALID if mapping is None else yamlsource.to_value(mapping)
    return _INVALID
