"""shipyard.yaml: the models the loader builds, its exact errors, and docs/project.md's example."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from shipyard.core import errors
from shipyard.spec import project, project_loader, project_services
from tests.conftest import REPO_ROOT

DOC = REPO_ROOT / "docs" / "project.md"

GOOD = """\
app: shop
services:
  web:
    build: make
    run: python -m shop --port $PORT
    http: { health: /healthz }
    replicas: 2
    stop_grace: 1500ms
    env: { WORKERS: 4, DEBUG: false }
    metrics: /metrics
  worker:
    run: python -m shop.worker
    readiness: { command: test -f ready, interval: 2s, success_threshold: 2 }
config:
  LOG_LEVEL: info
  RATIO: 0.50
environments:
  staging:
    port: 8081
    config: { LOG_LEVEL: debug }
  production:
    port: 8080
"""


def load(text: str) -> project.Project:
    return project_loader.load_project(text, path="shipyard.yaml")


def problems(text: str) -> list[str]:
    with pytest.raises(errors.SpecErrors) as caught:
        load(text)
    return [error.render() for error in caught.value.errors]


def test_a_valid_file_becomes_typed_frozen_models() -> None:
    loaded = load(GOOD)
    assert loaded.app == "shop"
    assert list(loaded.services) == ["web", "worker"]
    web = loaded.services["web"]
    assert (web.run, web.build, web.replicas, web.stop_grace) == (
        "python -m shop --port $PORT",
        "make",
        2,
        1.5,
    )
    assert web.http == project.HttpSettings(health="/healthz")
    assert web.readiness == project.Probe(kind="http", target="/healthz")
    assert web.liveness == project.Probe(
        kind="http", target="/healthz", interval=10.0, timeout=2.0, start_period=0.0
    )
    assert dict(web.env) == {"WORKERS": "4", "DEBUG": "false"}
    assert web.metrics == "/metrics"
    assert web.source.where("replicas") == errors.SourceLocation("shipyard.yaml", 7, 15)
    worker = loaded.services["worker"]
    assert worker.http is None and worker.liveness is None
    assert worker.readiness == project.Probe(
        kind="command", target="test -f ready", interval=2.0, success_threshold=2
    )
    assert loaded.environment_config("staging") == {"LOG_LEVEL": "debug", "RATIO": "0.50"}
    assert loaded.environment_config("production") == {"LOG_LEVEL": "info", "RATIO": "0.50"}
    assert [service.name for service in loaded.http_services()] == ["web"]
    with pytest.raises(AttributeError):
        web.replicas = 3  # type: ignore[misc]


def test_every_problem_is_reported_at_once_with_its_place_and_a_hint() -> None:
    text = """\
app: Shop
servics: {}
services:
  web:
    run: x
    replicas: 0
    readiness: { http: healthz, tcp: true, intervl: 1s }
    stop_grace: forever
    http: { health: /h }
    env: { PORT: 1, 1X: 2 }
config:
  A: [1]
environments:
  staging: { port: 8081, deploy: { strategy: blue-grn } }
  prod: {}
  other: { port: 8081 }
"""
    assert problems(text) == [
        "shipyard.yaml:1:6: app: invalid name `Shop`\n"
        "  hint: use lower-case letters, digits and inner dashes, at most 40 characters",
        "shipyard.yaml:2:1: servics: unknown key `servics`\n  hint: did you mean `services`?",
        "shipyard.yaml:6:15: services.web.replicas: expected from 1 to 64 replicas, found `0`\n"
        "  hint: to stop a service in an environment, use `shipyard down`",
        "shipyard.yaml:7:16: services.web.readiness: expected one of `http`, `tcp` or "
        "`command`, found `http`, `tcp`\n"
        "  hint: `http: /path` checks an HTTP answer, `tcp: true` a connection, "
        "`command: ...` an exit status",
        "shipyard.yaml:7:44: services.web.readiness.intervl: unknown key `intervl`\n"
        "  hint: did you mean `interval`?",
        "shipyard.yaml:8:17: services.web.stop_grace: expected a duration, found the string "
        "`forever`\n  hint: write a duration such as `500ms`, `10s` or `2m` "
        "(a plain number is seconds)",
        "shipyard.yaml:10:18: services.web.env.PORT: `PORT` is set by Shipyard for each "
        "instance\n  hint: remove it; use `$PORT` in `run` to read the port",
        "shipyard.yaml:10:25: services.web.env.1X: invalid variable name `1X`\n"
        "  hint: use letters, digits and underscores, not starting with a digit",
        "shipyard.yaml:12:6: config.A: expected a string, number or boolean (config values "
        "cannot be lists or mappings), found a list",
        "shipyard.yaml:14:46: environments.staging.deploy.strategy: unknown strategy "
        "`blue-grn`\n  hint: did you mean `blue-green`?",
        "shipyard.yaml:15:9: environments.prod: missing `port`\n"
        "  hint: an environment of an app with an `http` service needs the port its traffic "
        "arrives on, e.g. `port: 8080`",
        "shipyard.yaml:16:18: environments.other.port: port 8081 is already the port of "
        "environment `staging`\n  hint: give each environment its own port",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "shipyard.yaml:1:1: the project file is empty"),
        ("[1]", "shipyard.yaml:1:1: expected a mapping with `app` and `services`, found a list"),
        ("app: a\n", "shipyard.yaml:1:1: missing `services`"),
        ("services: {w: {run: x}}\n", "shipyard.yaml:1:1: missing `app`"),
        ("app: a\nservices: {}\n", "shipyard.yaml:2:11: services: no services"),
        ("app: a\nservices: {w: {}}\n", "shipyard.yaml:2:15: services.w: missing `run`"),
        ("app: a\nservices: {w: {rnu: x}}\n", "shipyard.yaml:2:16: services.w.rnu: unknown key"),
        ("app: a\nservices: {W: {run: x}}\n", "shipyard.yaml:2:12: services.W: invalid name `W`"),
        (
            "app: a\nservices: {w: {run: x, liveness: {tcp: false}}}\n",
            "shipyard.yaml:2:40: services.w.liveness.tcp: `tcp: false` checks nothing",
        ),
        (
            "app: a\nservices: {w: {run: x, http: {health: healthz}}}\n",
            "shipyard.yaml:2:39: services.w.http.health: expected an HTTP path such as "
            "`/healthz`, found `healthz`",
        ),
        (
            "app: a\nservices: {w: {run: x}}\nenvironments: {s: {port: 70000}}\n",
            "shipyard.yaml:3:26: environments.s.port: expected a port from 1 to 65535",
        ),
        (
            "app: a\nservices: {w: {run: x}}\nconfig: {A: '${{ resources.db.url }}'}\n",
            "shipyard.yaml:3:13: config.A: `resources` is not supported in config yet",
        ),
        (
            "app: a\nservices:\n  w: {run: x, http: true}\n  api: {run: y, http: true}\n",
            "shipyard.yaml:4:23: services.api.http: only one service can receive HTTP traffic, "
            "and `w` already does",
        ),
        (
            "app: a\nservices: {w: {run: x}}\nalerts: a.yml\n",
            "shipyard.yaml:3:1: alerts: `alerts` is not supported",
        ),
    ],
)
def test_single_problems(text: str, expected: str) -> None:
    assert problems(text)[0].startswith(expected)


def test_an_environment_without_http_services_needs_no_port() -> None:
    loaded = load("app: a\nservices: {w: {run: x}}\nenvironments: {preview: }\n")
    assert loaded.environments["preview"].port is None


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("500ms", 0.5), ("10s", 10.0), ("2m", 120.0), ("1h", 3600.0), (3, 3.0), (0.25, 0.25)],
)
def test_durations(value: object, seconds: float) -> None:
    assert project_services.parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["", "1", "ten", "5 s", "-1s", True, None, -2, float("nan")])
def test_invalid_durations(value: object) -> None:
    assert project_services.parse_duration(value) is None


def test_the_example_apps_file_is_valid() -> None:
    loaded = project_loader.load_project_file(REPO_ROOT / "examples" / "webapp" / "shipyard.yaml")
    assert loaded.app == "webapp"
    assert loaded.services["web"].readiness == project.Probe(
        kind="http", target="/readyz", interval=0.2, start_period=30.0
    )


def test_an_unreadable_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(errors.SpecErrors) as caught:
        project_loader.load_project_file(tmp_path / "shipyard.yaml", display_path="shipyard.yaml")
    assert caught.value.render() == (
        "shipyard.yaml:1:1: cannot read the project file: No such file or directory\n"
        "  hint: create shipyard.yaml at the root of the repository"
    )


def block(name: str, kind: str) -> str:
    """The fenced block that follows ``<!-- kind: name -->`` in docs/project.md."""
    text = DOC.read_text(encoding="utf-8")
    found = re.search(rf"<!-- {kind}: {name} -->\n```\w*\n(.*?)```", text, re.DOTALL)
    assert found is not None, f"docs/project.md has no {kind} block named {name}"
    return found.group(1)


def validate(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shipyard", "validate"],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_worked_example_prints_what_the_page_shows(tmp_path: Path) -> None:
    (tmp_path / "shipyard.yaml").write_text(block("broken", "example"), encoding="utf-8")
    done = validate(tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (1, "", block("broken", "output"))
    (tmp_path / "shipyard.yaml").write_text(block("fixed", "example"), encoding="utf-8")
    done = validate(tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, block("fixed", "output"), "")


def test_validate_checks_the_project_file_beside_the_workflows(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps: [{run: x}]\n",
        encoding="utf-8",
    )
    (tmp_path / "shipyard.yaml").write_text("app: a\nservices: {w: {run: x}}\n", "utf-8")
    done = validate(tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (
        "ok: shipyard.yaml (1 service, 0 environments)\n"
        "ok: .github/workflows/ci.yml (1 job)\n"
        "ok: 1 workflow, 1 job\n"
    )
