"""Typed, validated models of ``shipyard.yaml``, the project file. Pure: no I/O.

``shipyard.spec.project_loader`` builds these from YAML after checking every key; releases, the
store, the server and the supervisor read them and never see a raw dict parsed from YAML. Every
value that becomes an environment variable is already a string here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from typing import Literal

from shipyard.core.frozen import frozen
from shipyard.spec import deploy_settings, project_config, project_flags, project_security, workflow

PROJECT_FILE = "shipyard.yaml"
"""The project file's name, at the root of a repository."""

ProbeKind = Literal["http", "tcp", "command"]


@frozen
class Probe:
    """A check run against one instance: an HTTP GET, a TCP connect or a command.

    ``target`` is the path for ``http`` (``/healthz``), the command line for ``command`` and empty
    for ``tcp``. A check passes on a 2xx or 3xx answer, an accepted connection, or exit status 0,
    within ``timeout`` seconds. ``success_threshold`` passes in a row make an instance ready;
    ``failure_threshold`` failures in a row make it not ready (readiness) or restart it (liveness).
    Failures in the first ``start_period`` seconds of an instance do not count; for readiness, an
    instance not ready by the end of it has failed to start.
    """

    kind: ProbeKind
    target: str = ""
    interval: float = 1.0
    timeout: float = 1.0
    success_threshold: int = 1
    failure_threshold: int = 3
    start_period: float = 60.0


@frozen
class HttpSettings:
    """A service that receives HTTP traffic through the router once ready."""

    health: str | None = None
    """The health path (``/healthz``): the default readiness and liveness check."""


@frozen
class Service:
    """One process type of the app, run ``replicas`` times in each environment."""

    name: str
    run: str
    """A shell command run in the release directory; ``$PORT`` holds the instance's port."""
    build: str | None = None
    """A shell command run once per release, inside the release directory."""
    http: HttpSettings | None = None
    readiness: Probe | None = None
    """None: an instance is ready as soon as it runs."""
    liveness: Probe | None = None
    """None: an instance is restarted only when it exits."""
    replicas: int = 1
    stop_grace: float = 10.0
    """Seconds between SIGTERM and SIGKILL when an instance is stopped."""
    env: Mapping[str, str] = field(default_factory=dict)
    metrics: str | None = None
    """The path of a Prometheus endpoint, when the service has one."""
    source: workflow.SourceMap = field(default_factory=lambda: workflow.SourceMap("", ""))


@frozen
class Environment:
    """A named place the app runs (staging, production): its port and its config overrides."""

    name: str
    port: int | None = None
    """The port the router listens on for this environment's HTTP traffic."""
    config: Mapping[str, str] = field(default_factory=dict)
    source: workflow.SourceMap = field(default_factory=lambda: workflow.SourceMap("", ""))
    deploy: deploy_settings.DeploySettings = field(default_factory=deploy_settings.DeploySettings)
    protection: deploy_settings.Protection = field(default_factory=deploy_settings.Protection)
    flags: Mapping[str, project_flags.FlagOverride] = field(default_factory=dict)
    """Flag key -> this environment's changes to the flags file."""


@frozen
class Project:
    """A whole ``shipyard.yaml``: the app, its services, its config and its environments."""

    path: str
    app: str
    services: Mapping[str, Service]
    config: Mapping[str, str] = field(default_factory=dict)
    config_spec: project_config.ConfigSpec = field(default_factory=project_config.ConfigSpec)
    """Declared config types, ``vars`` and where each config value is written."""
    environments: Mapping[str, Environment] = field(default_factory=dict)
    security: project_security.SecuritySettings = field(
        default_factory=project_security.SecuritySettings
    )
    flags: project_flags.FlagSettings = field(default_factory=project_flags.FlagSettings)

    def environment_config(self, environment: str) -> dict[str, str]:
        """The config an environment's instances see: the project's, overlaid by its own."""
        merged = dict(self.config)
        merged.update(self.environments[environment].config)
        return merged

    def http_services(self) -> list[Service]:
        """The services that receive traffic through the router, in file order."""
        return [service for service in self.services.values() if service.http is not None]
