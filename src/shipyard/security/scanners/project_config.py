"""``shipyard.yaml`` risks: services listening on every interface, a production environment
without protection, secrets written in plain config, debug mode in production.

The file is read as plain YAML (with positions) rather than through the project loader, so the
checks also run on a file the loader rejects and on keys a newer Shipyard understands.
"""

from __future__ import annotations

import re
import time
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from shipyard.security import checks, findings, interface
from shipyard.security import files as tree

_S = findings.Severity
RULES = checks.rules(
    checks.rule(
        "project/binds-all-interfaces",
        "Service bound to every interface",
        "A service listens on 0.0.0.0, so it is reachable around Shipyard's router.",
        "Bind to 127.0.0.1 (`--host 127.0.0.1`): the router is the service's front "
        "door. If it must be reachable directly, put authentication in front of it.",
        _S.MEDIUM,
        "config",
    ),
    checks.rule(
        "project/unprotected-production",
        "Production without protection",
        "A production environment can be deployed from any branch without approval.",
        "Add `protection: { branches: [main], approval: true }` to the environment.",
        _S.MEDIUM,
        "config",
    ),
    checks.rule(
        "project/plaintext-secret",
        "Secret in plain config",
        "A config value whose name says it is a secret is written in clear.",
        "Move it to an encrypted secret (`.shipyard/secrets/<env>.yaml`) and rotate it.",
        _S.HIGH,
        "config",
        "secret",
    ),
    checks.rule(
        "project/debug-in-production",
        "Debug mode in production",
        "A production environment turns on a debug setting.",
        "Turn debug off in production; debug pages leak code, settings and data.",
        _S.LOW,
        "config",
    ),
)
_ALL_INTERFACES = re.compile(r"(?<![\d.])0\.0\.0\.0(?![\d.])|\[::\]|--host[= ]::(?:\s|$)")
_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_KEY", re.IGNORECASE)
_DEBUG_NAME = re.compile(r"(?:^|_)DEBUG\Z", re.IGNORECASE)
_PRODUCTION = re.compile(r"prod(?:uction)?\Z")


class ProjectConfigScanner:
    """The repository's ``shipyard.yaml`` files."""

    name = "project"

    def scan(self, context: interface.ScanContext) -> interface.ScanResult:
        started = time.perf_counter()
        found = checks.Checks(self.name, RULES)
        notices: list[interface.Notice] = []
        for shown, path in tree.walk(context.root, context.excludes):
            if path.name != "shipyard.yaml":
                continue
            text = tree.read_text(path, 1024 * 1024)
            try:
                document = YAML(typ="rt").load(text or "")
            except YAMLError as error:
                notices.append(
                    interface.Notice(f"{shown}: not checked: {str(error).splitlines()[0]}")
                )
                continue
            if isinstance(document, dict):
                check_project(shown, document, found)
        return interface.ScanResult(
            scanner=self.name,
            tool="shipyard-project",
            version="1",
            rules=RULES,
            findings=found.found,
            notices=notices,
            seconds=time.perf_counter() - started,
        )


def _line(node: Any, key: str) -> int:
    try:
        return int(node.lc.key(key)[0]) + 1
    except (AttributeError, KeyError, TypeError):
        return 1


def check_project(shown: str, document: dict[str, Any], found: checks.Checks) -> None:
    """Every check over one parsed ``shipyard.yaml``."""
    services = document.get("services") or {}
    if isinstance(services, dict):
        for name, service in services.items():
            if not isinstance(service, dict):
                continue
            run = str(service.get("run") or "")
            if _ALL_INTERFACES.search(run):
                found.report(
                    "project/binds-all-interfaces",
                    shown,
                    _line(service, "run"),
                    f"service `{name}` listens on every interface: `{run}`",
                    key=f"services.{name}.run",
                )
    _config(shown, document.get("config"), "config", found, production=False)
    environments = document.get("environments") or {}
    if not isinstance(environments, dict):
        return
    for name, environment in environments.items():
        production = bool(_PRODUCTION.match(str(name)))
        settings = environment if isinstance(environment, dict) else {}
        if production and not settings.get("protection"):
            line = _line(environments, name)
            found.report(
                "project/unprotected-production",
                shown,
                line,
                f"environment `{name}` has no `protection`",
                key=f"environments.{name}.protection",
            )
        _config(shown, settings.get("config"), f"environments.{name}.config", found, production)


def _config(shown: str, config: Any, path: str, found: checks.Checks, production: bool) -> None:
    if not isinstance(config, dict):
        return
    for key, value in config.items():
        text = "" if value is None else str(value)
        if _SECRET_NAME.search(str(key)) and text and "${{" not in text:
            found.report(
                "project/plaintext-secret",
                shown,
                _line(config, key),
                f"`{path}.{key}` holds a secret in clear",
                key=f"{path}.{key}",
            )
        if (
            production
            and _DEBUG_NAME.search(str(key))
            and text.lower() in ("1", "true", "yes", "on")
        ):
            found.report(
                "project/debug-in-production",
                shown,
                _line(config, key),
                f"`{path}.{key}` is on in production",
                key=f"{path}.{key}",
            )
