"""End-to-end: actions/cache, actions/cache/restore and actions/cache/save on the store."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.e2e.conftest import git, shipyard

WORKFLOW = """
on: push
jobs:
  deps:
    runs-on: ubuntu-latest
    x-shipyard: {cache: false}
    steps:
      - uses: actions/checkout@v4
      - id: cache
        uses: actions/cache@v4
        with:
          path: |
            .deps
            ~/shipyard-cache-test-{token}
          key: deps-${{ hashFiles('requirements.txt') }}
          restore-keys: deps-
      - run: |
          echo "hit=${{ steps.cache.outputs.cache-hit }}"
          if [ -d .deps ]; then echo "restored: $(cat .deps/list)"; fi
          mkdir -p .deps ~/shipyard-cache-test-{token}
          cp requirements.txt .deps/list
          echo outside > ~/shipyard-cache-test-{token}/file
  restore-only:
    needs: deps
    runs-on: ubuntu-latest
    x-shipyard: {cache: false}
    steps:
      - id: r
        uses: actions/cache/restore@v4
        with:
          path: |
            .deps
            ~/shipyard-cache-test-{token}
          key: nothing-like-this
          restore-keys: |
            deps-
      - run: echo "matched=${{ steps.r.outputs.cache-matched-key != '' }} hit=${{ steps.r.outputs.cache-hit }}"
      - id: other-paths
        uses: actions/cache/restore@v4
        with:
          path: .deps
          key: nothing-like-this
          restore-keys: deps-
      - run: echo "other paths matched=[${{ steps.other-paths.outputs.cache-matched-key }}]"
      - uses: actions/cache/restore@v4
        with:
          path: .deps
          key: absent
          fail-on-cache-miss: true
"""


def test_cache_restores_saves_and_falls_back_to_restore_keys(repo, home: Path) -> None:
    token = str(Path(home).name) + str(abs(hash(str(home))) % 100000)
    outside = Path.home() / f"shipyard-cache-test-{token}"
    root = repo(
        {
            ".github/workflows/c.yml": WORKFLOW.replace("{token}", token),
            "requirements.txt": "alpha\n",
        }
    )
    try:
        first = shipyard("run", "--json", cwd=root, home=home)
        assert first.returncode == 1  # restore-only's fail-on-cache-miss step fails
        assert "hit=false" in first.stderr
        assert "restored:" not in first.stderr
        steps = [s["name"] for s in first.job("deps")["steps"]]
        assert steps[-1] == "Post Cache deps-" + steps[-1].split("deps-")[1]
        assert "Cache saved with key: deps-" in first.stderr
        assert "matched=true hit=false" in first.stderr
        assert "other paths matched=[]" in first.stderr  # entries are versioned by their paths
        assert (
            "Failed to restore cache entry. Exiting as fail-on-cache-miss is set." in first.stderr
        )

        shutil.rmtree(outside)
        second = shipyard("run", "--json", "--job", "deps", cwd=root, home=home)
        assert second.returncode == 0, second.stderr
        assert "hit=true" in second.stderr
        assert "restored: alpha" in second.stderr
        assert (outside / "file").read_text() == "outside\n"
        assert "not saving cache" not in second.stderr  # an exact hit has no post step

        (root / "requirements.txt").write_text("beta\n")
        git(root, "commit", "-qam", "new requirements")
        third = shipyard("run", "--json", "--job", "deps", cwd=root, home=home)
        assert "hit=false" in third.stderr
        assert "restored: alpha" in third.stderr  # from the restore key
        assert "Cache saved with key: deps-" in third.stderr
    finally:
        shutil.rmtree(outside, ignore_errors=True)
