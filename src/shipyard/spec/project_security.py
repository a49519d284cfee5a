"""The ``security:`` section of ``shipyard.yaml``: the team's scan policy. Pure apart from nothing.

```yaml
security:
  fail_on: high                 # critical, high, medium, low, info or never
  strict: false                 # true: dependencies that could not be audited fail too
  scanners: [sast, dependencies, secrets, workflows, dockerfile, kubernetes, project, sbom]
  baseline: .shipyard/security-baseline.json
  exclude: [tests/fixtures]     # directory names or root-relative paths never scanned
  osv_db: .osv                  # a directory or zip of OSV records
  osv_api: https://api.osv.dev  # or ask OSV's web API instead
  sbom: build/sbom.cdx.json     # where the CycloneDX SBOM is written
  dast: http://127.0.0.1:8081   # the running app `--dast` checks by default
```

``shipyard.security`` turns these settings into a policy and a scan; this module only reads and
validates them, each error at file:line:col.
"""

from __future__ import annotations

from shipyard.core.frozen import frozen
from shipyard.spec import node_reader, yamlsource
from shipyard.spec.node_reader import join

KEYS = frozenset(
    {"fail_on", "strict", "scanners", "baseline", "exclude", "osv_db", "osv_api", "sbom", "dast"}
)
LEVELS = ("critical", "high", "medium", "low", "info", "never")
SCANNER_NAMES = (
    "sast", "semgrep", "dependencies", "secrets", "workflows", "dockerfile", "kubernetes",
    "project", "sbom", "dast",
)  # fmt: skip
"""The scanners ``shipyard.security.registry`` knows (a test keeps the two lists equal)."""


@frozen
class SecuritySettings:
    """The ``security:`` section; every field has the default a project without one gets."""

    fail_on: str = "high"
    """The lowest severity that fails the gate, or ``never``."""
    strict: bool = False
    scanners: tuple[str, ...] | None = None
    """None: every default scanner."""
    baseline: str | None = None
    exclude: tuple[str, ...] = ()
    osv_db: str | None = None
    osv_api: str | None = None
    """The base URL of an OSV API asked instead of a database."""
    sbom: str | None = None
    dast: str | None = None


def read_security(reader: node_reader.NodeReader, node: yamlsource.Node) -> SecuritySettings:
    """The section's settings; problems are recorded on ``reader``."""
    path = "security"
    if isinstance(node, yamlsource.ScalarNode) and node.value is None:
        return SecuritySettings()
    mapping = reader.mapping(node, path)
    if mapping is None:
        return SecuritySettings()
    reader.check_keys(mapping, path, KEYS)
    entries = mapping.entries
    settings: dict[str, object] = {}
    if "fail_on" in entries:
        level = reader.choice(entries["fail_on"].value, join(path, "fail_on"), LEVELS, "level")
        if level is not None:
            settings["fail_on"] = level
    if "strict" in entries:
        strict = reader.boolean(entries["strict"].value, join(path, "strict"))
        if isinstance(strict, bool):
            settings["strict"] = strict
    if "scanners" in entries:
        settings["scanners"] = _names(reader, entries["scanners"].value, join(path, "scanners"))
    if "exclude" in entries:
        found = reader.strings(entries["exclude"].value, join(path, "exclude"))
        settings["exclude"] = tuple(text for text, _ in found or ())
    for key in ("baseline", "osv_db", "osv_api", "sbom", "dast"):
        if key in entries:
            value = reader.string(entries[key].value, join(path, key), strict=True, non_empty=True)
            if value is not None:
                settings[key] = value
    return SecuritySettings(**settings)  # type: ignore[arg-type]


def _names(reader: node_reader.NodeReader, node: yamlsource.Node, path: str) -> tuple[str, ...]:
    found = reader.strings(node, path) or []
    names: list[str] = []
    for index, (name, item) in enumerate(found):
        if name not in SCANNER_NAMES:
            reader.choice(item, f"{path}[{index}]", SCANNER_NAMES, "scanner")
            continue
        names.append(name)
    return tuple(dict.fromkeys(names))
