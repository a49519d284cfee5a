"""``x-shipyard:``, Shipyard's own keys in a workflow file. GitHub ignores keys it does not know
only at the top of a workflow, so these live under one ``x-shipyard`` key at workflow or job level
and never change what GitHub does with the file.

    x-shipyard:
      cache: false                       # never replay this job from the job cache
    x-shipyard:
      cache:
        inputs: [src/**, pyproject.toml]  # only these files decide whether the job reruns
        secrets: true                     # cache it although it uses secrets
"""

from __future__ import annotations

from shipyard.spec import node_reader, workflow, yamlsource
from shipyard.spec.node_reader import join

EXTENSION_KEYS = frozenset({"cache"})
CACHE_KEYS = frozenset({"enabled", "inputs", "secrets"})


def read_extensions(
    reader: node_reader.NodeReader, node: yamlsource.Node, path: str
) -> workflow.Extensions | None:
    here = join(path, "x-shipyard")
    mapping = reader.mapping(node, here)
    if mapping is None:
        return None
    reader.check_keys(mapping, here, EXTENSION_KEYS)
    entry = mapping.entries.get("cache")
    if entry is None:
        return workflow.Extensions()
    return workflow.Extensions(cache=_cache(reader, entry.value, join(here, "cache")))


def _cache(
    reader: node_reader.NodeReader, node: yamlsource.Node, path: str
) -> workflow.CacheSettings | None:
    if isinstance(node, yamlsource.ScalarNode) and isinstance(node.value, bool):
        return workflow.CacheSettings(enabled=node.value)
    mapping = reader.mapping(node, path, "`true`, `false` or a mapping")
    if mapping is None:
        return None
    reader.check_keys(mapping, path, CACHE_KEYS)
    settings = workflow.CacheSettings()
    entries = mapping.entries
    enabled = settings.enabled
    if "enabled" in entries:
        value = reader.boolean(entries["enabled"].value, join(path, "enabled"))
        enabled = value if isinstance(value, bool) else enabled
    secrets = settings.secrets
    if "secrets" in entries:
        value = reader.boolean(entries["secrets"].value, join(path, "secrets"))
        secrets = value if isinstance(value, bool) else secrets
    inputs: tuple[str, ...] = ()
    if "inputs" in entries:
        found = reader.strings(entries["inputs"].value, join(path, "inputs"))
        inputs = tuple(text for text, _ in found or ())
    return workflow.CacheSettings(enabled=enabled, inputs=inputs, secrets=secrets)
