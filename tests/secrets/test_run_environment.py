"""``shipyard run --environment`` and jobs with ``environment:`` get that environment's secrets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from shipyard.secrets import secret_files
from tests.e2e.conftest import TOOL_CACHE, git, make_repo
from tests.secrets.conftest import Key

WORKFLOW = """
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "token=${{ secrets.API_TOKEN }} region=${{ vars.REGION }}"
          echo "b64=$(printf %s "$TOKEN" | base64)"
        env:
          TOKEN: ${{ secrets.API_TOKEN }}
  deploy:
    runs-on: ubuntu-latest
    environment: production
    steps:
      - run: |
          echo "deploy-token=${{ secrets.API_TOKEN }} region=${{ vars.REGION }}"
          echo "deploy-length=${#T}"
        env:
          T: ${{ secrets.API_TOKEN }}
"""

PROJECT = """
app: shop
services: {web: {run: python -m shop}}
vars: {REGION: eu-west}
environments:
  staging:
  production:
    vars: {REGION: us-east}
"""


def run(root: Path, home: Path, key: Key, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "SHIPYARD_HOME": str(home),
        "SHIPYARD_TOOL_CACHE": str(TOOL_CACHE),
        "SHIPYARD_AGE_KEY_FILE": str(key.file),
    }
    return subprocess.run(
        [sys.executable, "-m", "shipyard", "run", "--no-cache", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_environment_secrets_and_vars_reach_jobs_masked(tmp_path: Path, alice: Key) -> None:
    root = make_repo(
        tmp_path / "app", {".github/workflows/ci.yml": WORKFLOW, "shipyard.yaml": PROJECT}
    )
    secret_files.set_value(root, "staging", "API_TOKEN", "staging-token-77", [alice.identity])
    secret_files.set_value(root, "production", "API_TOKEN", "prod-token-88", [alice.identity])
    secret_files.set_value(root, "staging", "PIN", "123", [alice.identity])
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "secrets")
    home = tmp_path / "home"
    done = run(root, home, alice, "--environment", "staging")
    assert done.returncode == 0, done.stderr + done.stdout
    out = done.stdout
    assert "warning: secret `PIN` is shorter than 4 characters and is not masked\n" in done.stderr
    assert "token=*** region=eu-west" in out
    assert "b64=***" in out
    assert "deploy-token=*** region=us-east" in out
    logs = "".join(p.read_text(errors="replace") for p in home.rglob("*") if p.is_file())
    for secret in ("staging-token-77", "prod-token-88"):
        assert secret not in out + done.stderr + logs
    # The deploy job saw production's token (13 characters), not staging's (16).
    assert "deploy-length=13" in out
    unknown = run(root, home, alice, "--environment", "qa")
    assert unknown.returncode == 2
    assert unknown.stderr == (
        "error: --environment qa: no such environment\n"
        "  hint: declare it in shipyard.yaml, or add a secret with "
        "`shipyard secrets set qa NAME`\n"
    )
