"""The router as the server configures it: environments by Host name on a shared listener, the
router's /metrics listener, and malformed router settings refused before anything starts."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.server.harness import cleanup, free_port, shipyard, webapp_repo

PROJECT = """\
app: webapp
services:
  web:
    run: exec python -m webapp
    http: {{ health: /healthz }}
    readiness: {{ http: /readyz, interval: 100ms, start_period: 8s }}
    env: {{ WEBAPP_ACCESS_LOG: 0 }}
environments:
  staging:
    port: {staging}
    config: {{ WEBAPP_VERSION: staging-build }}
  production:
    port: {production}
    config: {{ WEBAPP_VERSION: production-build }}
"""

pytestmark = pytest.mark.slow


def test_host_names_pick_the_environment_and_metrics_count_each_one(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    host_port, metrics_port = free_port(), free_port()
    settings = {
        "SHIPYARD_ROUTER_HOST_PORT": str(host_port),
        "SHIPYARD_ROUTER_METRICS_PORT": str(metrics_port),
    }
    repo = webapp_repo(
        tmp_path / "repo", PROJECT.format(staging=free_port(), production=free_port())
    )
    with cleanup(home, settings):
        created = shipyard("release", "create", cwd=repo, home=home, env=settings)
        assert created.returncode == 0, created.stderr
        for environment in ("staging", "production"):
            up = shipyard("up", environment, cwd=repo, home=home, env=settings)
            assert up.returncode == 0, up.stderr

        shared = f"http://127.0.0.1:{host_port}"
        with httpx.Client(timeout=10) as http:
            for environment, count in (("staging", 3), ("production", 5)):
                for _ in range(count):
                    answer = http.get(
                        shared + "/version", headers={"Host": f"{environment}.webapp.localhost"}
                    )
                    assert answer.status_code == 200, answer.text
                    assert answer.json()["version"] == f"{environment}-build"
            unknown = http.get(shared + "/", headers={"Host": "nope.webapp.localhost"})
            assert unknown.status_code == 404
            assert "nope.webapp.localhost" in unknown.text

            metrics = http.get(f"http://127.0.0.1:{metrics_port}/metrics")
        assert metrics.status_code == 200
        assert metrics.headers["content-type"].startswith("text/plain")
        counted = {}
        for line in metrics.text.splitlines():
            found = re.match(r"shipyard_router_requests_total\{(.*)\} (\d+)", line)
            if found and 'release=""' not in found.group(1):
                environment = re.search(r'environment="([^"]+)"', found.group(1))
                assert environment is not None
                counted[environment.group(1)] = counted.get(environment.group(1), 0) + int(
                    found.group(2)
                )
        assert counted == {"staging": 3, "production": 5}


def test_a_malformed_router_setting_is_refused_before_the_server_starts(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    settings = {"SHIPYARD_ROUTER_WORKERS": "two"}
    with cleanup(home, settings):
        started = shipyard("server", "start", cwd=home, home=home, env=settings)
        assert started.returncode == 2, started.stdout + started.stderr
        assert "SHIPYARD_ROUTER_WORKERS='two' is not a number from 1 to 64" in started.stderr
        assert "Traceback" not in started.stderr
        assert not (home / "server.json").exists()
