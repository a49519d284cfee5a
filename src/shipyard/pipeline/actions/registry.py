"""Shipyard's built-in actions, by the name a workflow ``uses:``.

A built-in replaces a popular action so that workflows run offline on the host. Adding one is
one module in this package and one line in ``_BUILTIN_ACTIONS``. Keys are lower-case
``owner/repo`` (later also ``owner/repo/path`` for actions such as ``actions/cache/restore``).

Any ``@ref`` is accepted, because the built-ins implement one version's semantics:
actions/checkout v4, actions/setup-python v5, astral-sh/setup-uv v6, actions/upload-artifact and
actions/download-artifact v4 (v4.4 and later: hidden files left out), actions/cache v4
(with actions/cache/restore and actions/cache/save). ``docs/actions.md`` lists
every input, output and deviation. This module only looks actions up; it never runs them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from shipyard.pipeline.actions import (
    cache,
    checkout,
    download_artifact,
    interface,
    setup_python,
    setup_uv,
    upload_artifact,
)

_BUILTIN_ACTIONS: tuple[interface.BuiltinAction, ...] = (
    checkout.Checkout(),
    setup_python.SetupPython(),
    setup_uv.SetupUv(),
    upload_artifact.UploadArtifact(),
    download_artifact.DownloadArtifact(),
    cache.Cache(),
    cache.CacheRestore(),
    cache.CacheSave(),
)


def _index(actions: Iterable[interface.BuiltinAction]) -> Mapping[str, interface.BuiltinAction]:
    index: dict[str, interface.BuiltinAction] = {}
    for action in actions:
        for name in action.names:
            if name in index:
                raise ValueError(f"two built-in actions claim {name!r}")
            index[name.lower()] = action
    return MappingProxyType(index)


BUILTINS: Mapping[str, interface.BuiltinAction] = _index(_BUILTIN_ACTIONS)
"""Every built-in, keyed by lower-case ``owner/repo`` without ``@ref``."""


def find_builtin(uses: str) -> interface.BuiltinAction | None:
    """The built-in for a ``uses:`` value (``actions/checkout@v4``), or None."""
    name = uses.strip().split("@", 1)[0].rstrip("/").lower()
    return BUILTINS.get(name)
