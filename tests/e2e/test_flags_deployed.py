"""A deployed service reads its flags over OFREP with the settings Shipyard gives it: the example
app's /banner, deployed with `shipyard up`, follows runtime flag changes without a deploy."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import git
from tests.server.harness import cleanup, free_port, shipyard, wait_for, webapp_repo, webapp_service

PROJECT = (
    webapp_service(replicas=1, stop_grace="3s", drain_seconds=1)
    + """\
flags: flags.json
environments:
  staging:
    port: {port}
"""
)

FLAGS = {
    "flags": {
        "welcome-banner": {
            "state": "ENABLED",
            "variants": {"plain": "Welcome!", "sale": "Summer sale: 20% off"},
            "defaultVariant": "plain",
            "targeting": {"if": [{"starts_with": [{"var": "targetingKey"}, "vip-"]}, "sale", None]},
        }
    }
}

pytestmark = pytest.mark.slow


def test_the_deployed_example_app_reads_its_banner_flag(tmp_path: Path) -> None:
    port = free_port()
    root = tmp_path / "repo"
    root.mkdir()
    (root / "flags.json").write_text(json.dumps(FLAGS))
    repo = webapp_repo(root, PROJECT.format(port=port))
    home = tmp_path / "home"
    home.mkdir()
    with cleanup(home):
        created = shipyard("release", "create", cwd=repo, home=home)
        assert created.returncode == 0, created.stderr
        release = created.stdout.strip()
        pushed = shipyard("flags", "push", "--env", "staging", "--release", release[:10],
                          cwd=repo, home=home)  # fmt: skip
        assert pushed.returncode == 0, pushed.stderr
        commit = git(repo, "rev-parse", "HEAD")[:12]
        assert (
            pushed.stdout == f"staging: published 1 flag(s) from flags.json@{commit} (revision 1)\n"
        )
        up = shipyard("up", "staging", cwd=repo, home=home)
        assert up.returncode == 0, up.stderr

        def banner(user: str) -> dict[str, object]:
            answer = httpx.get(f"http://127.0.0.1:{port}/banner", params={"user": user}, timeout=30)
            assert answer.status_code == 200, answer.text
            return dict(answer.json())

        assert banner("vip-1") == {
            "key": "welcome-banner", "value": "Summer sale: 20% off", "reason": "TARGETING_MATCH",
            "variant": "sale",
        }  # fmt: skip
        assert banner("u-1")["value"] == "Welcome!"
        changed = shipyard("flags", "set-default", "welcome-banner", "sale", "--env", "staging",
                           cwd=repo, home=home)  # fmt: skip
        assert changed.returncode == 0, changed.stderr
        wait_for(lambda: banner("u-1")["value"] == "Summer sale: 20% off", what="the new default")
        disabled = shipyard("flags", "disable", "welcome-banner", "--env", "staging", cwd=repo,
                            home=home)  # fmt: skip
        assert disabled.returncode == 0, disabled.stderr
        wait_for(lambda: banner("vip-1").get("errorCode") == "FLAG_NOT_FOUND", what="disabled")
        assert banner("vip-1")["value"] == "Welcome!"
