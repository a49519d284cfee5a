"""``shipyard.yaml`` in, a validated ``project.Project`` out. Pure apart from reading the file.

Every problem in the file is reported at once, each at file:line:col with its key path and a hint,
as the workflow loader does; the rest of Shipyard only ever sees the model. Services and their
probes are read by ``project_services``; this module reads the top level, config and environments.
"""

from __future__ import annotations

from pathlib import Path

from shipyard.core import errors
from shipyard.spec import (
    node_reader,
    project,
    project_config,
    project_deploy,
    project_flags,
    project_security,
    project_services,
    project_values,
    workflow,
    yamlsource,
)
from shipyard.spec.node_reader import join

TOP_KEYS = frozenset({"app", "services", "config", "vars", "environments", "security", "flags"})
ENVIRONMENT_KEYS = frozenset({"port", "config", "vars", "deploy", "protection", "flags"})
_LATER = "not supported yet"
UNSUPPORTED_TOP = {
    "resources": (f"`resources` is {_LATER}", "remove it; resources come in a later version"),
    "alerts": (f"`alerts` is {_LATER}", "remove it; alert rules come in a later version"),
}
UNSUPPORTED_ENVIRONMENT = {
    "ttl": (f"`ttl` is {_LATER}", "remove it; preview environments come in a later version"),
}

_EMPTY_HINT = "a project file needs at least `app` and `services`; see docs/project.md"


def load_project(text: str, *, path: str) -> project.Project:
    """Validate a project file's text; ``path`` is the file as shown in locations.

    Raises ``errors.SpecErrors`` holding every problem found, sorted by position.
    """
    reader, mapping = node_reader.open_document(
        text,
        path=path,
        noun="project file",
        expected="a mapping with `app` and `services`",
        empty_hint=_EMPTY_HINT,
    )
    loaded = _read_project(reader, mapping)
    problems = errors.SpecErrors.collect(reader.errors)
    if problems is not None or loaded is None:
        raise problems or errors.SpecErrors(reader.errors)
    return loaded


def load_project_file(file: Path, *, display_path: str | None = None) -> project.Project:
    """Read and validate a project file; errors show ``display_path`` (default: ``file``)."""
    shown = display_path if display_path is not None else str(file)
    text = node_reader.read_text(
        file,
        shown=shown,
        noun="project file",
        missing_hint=f"create {project.PROJECT_FILE} at the root of the repository",
    )
    return load_project(text, path=shown)


def _read_project(
    reader: node_reader.NodeReader, mapping: yamlsource.MappingNode
) -> project.Project | None:
    reader.check_keys(mapping, "", TOP_KEYS, UNSUPPORTED_TOP)
    entries = mapping.entries
    app = None
    if reader.require(mapping, "", "app", "name the app: `app: shop`", known=TOP_KEYS):
        app = project_values.read_name(reader, entries["app"].value, "app")
    services: dict[str, project.Service] = {}
    if reader.require(
        mapping, "", "services", "add `services:` with at least one service", known=TOP_KEYS
    ):
        services = project_services.read_services(reader, entries["services"].value)
    config, config_spec = project_config.read_top(reader, mapping)
    environments: dict[str, project.Environment] = {}
    if "environments" in entries:
        environments = _environments(reader, entries["environments"].value)
    _check_ports(reader, services, environments)
    security = project_security.SecuritySettings()
    if "security" in entries:
        security = project_security.read_security(reader, entries["security"].value)
    flags = project_flags.FlagSettings()
    if "flags" in entries:
        flags = project_flags.read_flags_file(reader, entries["flags"].value)
    if app is None:
        return None
    return project.Project(
        path=reader.file,
        app=app,
        services=services,
        config=config,
        config_spec=config_spec,
        environments=environments,
        security=security,
        flags=flags,
    )


def _environments(
    reader: node_reader.NodeReader, node: yamlsource.Node
) -> dict[str, project.Environment]:
    mapping = reader.mapping(node, "environments")
    if mapping is None:
        return {}
    found: dict[str, project.Environment] = {}
    for name, entry in mapping.entries.items():
        path = join("environments", name)
        if not project_values.check_key_name(reader, name, entry.key_location, path):
            continue
        environment = _environment(reader, name, entry.value, path)
        if environment is not None:
            found[name] = environment
    return found


def _environment(
    reader: node_reader.NodeReader, name: str, node: yamlsource.Node, path: str
) -> project.Environment | None:
    if isinstance(node, yamlsource.ScalarNode) and node.value is None:
        return project.Environment(name=name, source=workflow.SourceMap(reader.file, path))
    mapping = reader.mapping(node, path)
    if mapping is None:
        return None
    reader.check_keys(mapping, path, ENVIRONMENT_KEYS, UNSUPPORTED_ENVIRONMENT)
    entries = mapping.entries
    locations = {"": mapping.location}
    locations.update({key: entry.value.location for key, entry in entries.items()})
    port = None
    if "port" in entries:
        port = project_values.read_port(reader, entries["port"].value, join(path, "port"))
    config: dict[str, str] = {}
    if "config" in entries:
        config = project_config.read_environment_config(
            reader, entries["config"].value, join(path, "config")
        )
    deploy, protection = project_deploy.read_environment_deploy(reader, entries, path)
    return project.Environment(
        name=name,
        port=port,
        config=config,
        source=workflow.SourceMap(reader.file, path, locations),
        deploy=deploy,
        protection=protection,
        flags=project_flags.read_environment_flags(
            reader, entries["flags"].value, join(path, "flags")
        )
        if "flags" in entries
        else {},
    )


def _check_ports(
    reader: node_reader.NodeReader,
    services: dict[str, project.Service],
    environments: dict[str, project.Environment],
) -> None:
    serves_http = any(service.http is not None for service in services.values())
    owners: dict[int, str] = {}
    for name, environment in environments.items():
        path = join("environments", name)
        if environment.port is None:
            if serves_http:
                reader.error(
                    environment.source.where(),
                    path,
                    "missing `port`",
                    "an environment of an app with an `http` service needs the port its "
                    "traffic arrives on, e.g. `port: 8080`",
                )
            continue
        other = owners.setdefault(environment.port, name)
        if other != name:
            reader.error(
                environment.source.where("port"),
                join(path, "port"),
                f"port {environment.port} is already the port of environment `{other}`",
                "give each environment its own port",
            )
