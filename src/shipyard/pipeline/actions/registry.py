"""Shipyard's built-in actions, by the name a workflow ``uses:``.

A built-in replaces a popular action so that workflows run offline on the host. Adding one is
one module in this package and one line in ``_BUILTIN_ACTIONS``. Keys are lower-case
``owner/repo`` (later also ``owner/repo/path`` for actions such as ``actions/cache/restore``).

Any ``@ref`` is accepted, because the built-ins implement one version's semantics:
actions/checkout v4, actions/setup-python v5, astral-sh/setup-uv v6, actions/upload-artifact and
actions/download-artifact v4 (v4.4 and later: hidden files left out), actions/cache v4
(with actions/cache/restore and actions/cache/save), and Shipyard's own shipyard/scan v1 (the
security gate, docs/security.md). ``docs/actions.md`` lists
every input, output and deviation. This module only looks actions up; it never runs them.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import MappingProxyType

from shipyard.pipeline.actions import interface

# name -> (module in this package, class). Modules load on first use: a run imports only the
# built-ins its workflow uses, which keeps `shipyard run` quick to start.
_BUILTIN_ACTIONS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "actions/checkout": ("checkout", "Checkout"),
        "actions/setup-python": ("setup_python", "SetupPython"),
        "astral-sh/setup-uv": ("setup_uv", "SetupUv"),
        "actions/upload-artifact": ("upload_artifact", "UploadArtifact"),
        "actions/download-artifact": ("download_artifact", "DownloadArtifact"),
        "actions/cache": ("cache", "Cache"),
        "actions/cache/restore": ("cache", "CacheRestore"),
        "actions/cache/save": ("cache", "CacheSave"),
        "shipyard/scan": ("scan", "Scan"),
    }
)

BUILTINS: Mapping[str, tuple[str, str]] = _BUILTIN_ACTIONS
"""Every built-in's name (lower-case ``owner/repo`` without ``@ref``) and where it lives."""

_loaded: dict[str, interface.BuiltinAction] = {}


def find_builtin(uses: str) -> interface.BuiltinAction | None:
    """The built-in for a ``uses:`` value (``actions/checkout@v4``), or None."""
    name = uses.strip().split("@", 1)[0].rstrip("/").lower()
    if name not in _BUILTIN_ACTIONS:
        return None
    action = _loaded.get(name)
    if action is None:
        module_name, class_name = _BUILTIN_ACTIONS[name]
        module = importlib.import_module(f"shipyard.pipeline.actions.{module_name}")
        action = getattr(module, class_name)()
        assert name in action.names
        _loaded[name] = action
    return action
