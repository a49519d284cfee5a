"""A deploy publishes the release's flags: its flags file, with the environment's overrides,
becomes what the environment serves once the release does; a broken flags file refuses the
deploy before anything changes."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import git
from tests.server.harness import api, cleanup, free_port, shipyard, webapp_repo

PROJECT = """\
app: webapp
services:
  web:
    run: exec python -m webapp
    http: {{ health: /healthz }}
    readiness: {{ http: /readyz, interval: 100ms, start_period: 8s }}
    env: {{ WEBAPP_ACCESS_LOG: 0 }}
flags: flags.json
environments:
  staging:
    port: {port}
    deploy: {{ strategy: blue-green, keep_previous: 0s, deadline: 10s }}
    flags: {{ new-banner: {{ state: ENABLED }} }}
"""


def flags_file(default: str, *, broken: bool = False) -> str:
    banner: dict[str, Any] = {
        "state": "DISABLED",
        "variants": {"on": True, "off": False},
        "defaultVariant": "on",
    }
    checkout = {"state": "ENABLED", "variants": {"a": "a", "b": "b"}, "defaultVariant": default}
    if broken:
        checkout["state"] = "MAYBE"
    return json.dumps({"flags": {"new-banner": banner, "checkout": checkout}})


def served(home: Path) -> dict[str, Any]:
    answer = api(home, "GET", "/api/v1/flags/staging")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def commit_flags(repo: Path, text: str, message: str) -> None:
    (repo / "flags.json").write_text(text)
    git(repo, "add", "flags.json")
    git(repo, "commit", "-qm", message)


pytestmark = pytest.mark.slow


def test_a_deploy_publishes_its_releases_flags_and_a_broken_file_changes_nothing(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    repo = webapp_repo(tmp_path / "repo", PROJECT.format(port=free_port()))
    commit_flags(repo, flags_file("a"), "flags")
    with cleanup(home):
        first = shipyard("deploy", "staging", cwd=repo, home=home)
        assert first.returncode == 0, first.stderr + first.stdout
        view = served(home)
        commit = git(repo, "rev-parse", "HEAD")
        assert view["source"] == f"flags.json@{commit[:12]}"
        by_key = {flag["key"]: flag for flag in view["flags"]}
        assert by_key["new-banner"]["state"] == "ENABLED"  # staging's override
        assert by_key["checkout"]["defaultVariant"] == "a"

        commit_flags(repo, flags_file("b"), "checkout b")
        second = shipyard("deploy", "staging", cwd=repo, home=home)
        assert second.returncode == 0, second.stderr + second.stdout
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and served(home)["revision"] == view["revision"]:
            time.sleep(0.1)
        after = {flag["key"]: flag for flag in served(home)["flags"]}
        assert after["checkout"]["defaultVariant"] == "b"

        before = served(home)
        commit_flags(repo, flags_file("a", broken=True), "a broken flag")
        refused = shipyard("deploy", "staging", cwd=repo, home=home)
        assert refused.returncode != 0
        assert "the release's flags file has 1 invalid flag(s)" in refused.stderr
        assert "checkout" in refused.stderr
        assert "Traceback" not in refused.stderr
        assert served(home) == before
        history = api(home, "GET", "/api/v1/environments/staging/deploys").json()
        assert len(history) == 2
