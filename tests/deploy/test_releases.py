"""Releases from real git repositories: ids, builds, logs, immutability and failures."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from shipyard.core import errors
from shipyard.deploy import releases
from shipyard.store import database, records
from tests.e2e.conftest import git, make_repo

PROJECT = """\
app: shop
services:
  web:
    build: echo building; echo "$SHIPYARD_RELEASE" > built.txt; echo x >> "$BUILD_COUNTER"
    run: python -m http.server $PORT
"""


@pytest.fixture
def counter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "builds"
    path.write_text("")
    monkeypatch.setenv("BUILD_COUNTER", str(path))
    return path


def repository(tmp_path: Path, project: str = PROJECT) -> Path:
    return make_repo(tmp_path / "repo", {"shipyard.yaml": project, "app.txt": "v1\n"})


def test_a_release_is_archived_built_recorded_and_read_only(tmp_path: Path, counter: Path) -> None:
    repo = repository(tmp_path)
    root = tmp_path / "releases"
    lines: list[str] = []
    source = releases.resolve_source(repo)
    manifest = releases.create_release(root, source, on_line=lines.append)
    commit = git(repo, "rev-parse", "HEAD")
    assert manifest.commit == commit
    assert manifest.tree == git(repo, "rev-parse", "HEAD^{tree}")
    assert manifest.id == releases.release_id("shop", commit, source.project_digest)
    assert (manifest.status, manifest.deployable, manifest.failed_service) == ("built", True, None)
    assert manifest.size_bytes > 0 and manifest.build_seconds >= 0
    assert lines == [f"$ {source.project.services['web'].build}", "building"]
    directory = releases.release_dir(root, "shop", manifest.id)
    tree = releases.tree_dir(root, "shop", manifest.id)
    assert (tree / "app.txt").read_text() == "v1\n"
    assert (tree / "built.txt").read_text() == f"{manifest.id}\n"
    assert (directory / "build.log").read_text().splitlines() == lines
    assert releases.read_manifest(directory) == manifest
    for path in [directory, tree, tree / "app.txt", directory / "manifest.json"]:
        assert not stat.S_IMODE(path.stat().st_mode) & 0o222, path
    if os.geteuid() != 0:  # root writes read-only files anyway
        with pytest.raises(PermissionError):
            (tree / "app.txt").write_text("changed")
    assert list((root / "shop" / ".staging").iterdir()) == []
    assert releases.list_releases(root) == [manifest]
    assert releases.deployable(root, "shop", manifest.id[:6]) == manifest


def test_the_same_commit_gives_the_same_release_built_once(tmp_path: Path, counter: Path) -> None:
    repo = repository(tmp_path)
    root = tmp_path / "releases"
    first = releases.create_release(root, releases.resolve_source(repo))
    again = releases.create_release(root, releases.resolve_source(repo, "main"))
    assert again == first
    assert counter.read_text() == "x\n"
    (repo / "app.txt").write_text("v2\n")
    git(repo, "commit", "-qam", "v2")
    second = releases.create_release(root, releases.resolve_source(repo))
    assert second.id != first.id
    older = releases.create_release(root, releases.resolve_source(repo, "HEAD~1"))
    assert older.id == first.id
    assert [m.id for m in releases.list_releases(root, "shop")] == [second.id, first.id]


def test_a_failed_build_is_recorded_with_its_log_and_never_deployable(
    tmp_path: Path, counter: Path
) -> None:
    project = PROJECT.replace("echo building;", "echo compiling; echo oops >&2; exit 3;")
    repo = repository(tmp_path, project)
    root = tmp_path / "releases"
    source = releases.resolve_source(repo)
    identifier = releases.release_id("shop", source.commit, source.project_digest)
    with pytest.raises(releases.BuildFailed) as caught:
        releases.create_release(root, source)
    log = releases.release_dir(root, "shop", identifier) / "build.log"
    assert caught.value.render() == (
        f"the build of service `web` failed; release {identifier} is recorded as failed\n"
        f"  hint: read its log: {log}"
    )
    assert log.read_text().splitlines()[1:] == [
        "compiling",
        "oops",
        "build of service `web` failed (exit status 3)",
    ]
    manifest = releases.find_release(root, "shop", identifier)
    assert (manifest.status, manifest.failed_service) == ("failed", "web")
    with pytest.raises(releases.ReleaseError) as refused:
        releases.deployable(root, "shop", identifier)
    assert refused.value.message == (
        f"release {identifier} failed to build and can never be deployed"
    )
    with pytest.raises(releases.BuildFailed):  # creating it again retries the build
        releases.create_release(root, source)
    assert counter.read_text() == ""


def test_a_build_never_writes_where_a_deploy_could_find_it(tmp_path: Path, counter: Path) -> None:
    project = PROJECT.replace("echo building;", 'test ! -e "$FINAL" && echo not-yet-there;')
    repo = repository(tmp_path, project)
    root = tmp_path / "releases"
    source = releases.resolve_source(repo)
    identifier = releases.release_id("shop", source.commit, source.project_digest)
    os.environ["FINAL"] = str(releases.release_dir(root, "shop", identifier))
    try:
        lines: list[str] = []
        releases.create_release(root, source, on_line=lines.append)
    finally:
        del os.environ["FINAL"]
    assert "not-yet-there" in lines
    # A build that died half-way leaves only a staging directory, which nothing lists.
    (root / "shop" / ".staging" / "dead-build").mkdir()
    assert [m.id for m in releases.list_releases(root)] == [identifier]


def test_a_build_that_takes_too_long_is_stopped(tmp_path: Path, counter: Path) -> None:
    repo = repository(tmp_path, PROJECT.replace("echo building;", "sleep 30;"))
    with pytest.raises(releases.BuildFailed):
        releases.create_release(
            tmp_path / "releases", releases.resolve_source(repo), build_timeout=0.5
        )


def test_source_problems_are_clear(tmp_path: Path) -> None:
    with pytest.raises(releases.ReleaseError, match="is not in a git repository"):
        releases.resolve_source(tmp_path)
    repo = make_repo(tmp_path / "repo", {"README": "x"})
    with pytest.raises(releases.ReleaseError) as caught:
        releases.resolve_source(repo)
    commit = git(repo, "rev-parse", "HEAD")[:12]
    assert caught.value.render() == (
        f"commit {commit} has no shipyard.yaml\n  hint: add shipyard.yaml at the root of the "
        "repository and commit it (see docs/project.md)"
    )
    with pytest.raises(releases.ReleaseError) as bad_ref:
        releases.resolve_source(repo, "nope")
    assert bad_ref.value.message == f"no commit `nope` in {repo}"
    (repo / "shipyard.yaml").write_text("app: shop\nservices: {web: {rnu: x}}\n")
    git(repo, "add", "shipyard.yaml")
    git(repo, "commit", "-qm", "bad")
    commit = git(repo, "rev-parse", "HEAD")[:12]
    with pytest.raises(errors.SpecErrors) as invalid:
        releases.resolve_source(repo)
    assert invalid.value.render().splitlines()[0] == (
        f"shipyard.yaml@{commit}:2:18: services.web.rnu: unknown key `rnu`"
    )


def test_the_cli_creates_lists_and_records_releases(tmp_path: Path, counter: Path) -> None:
    repo = repository(tmp_path)
    home = tmp_path / "home"
    environment = {**os.environ, "SHIPYARD_HOME": str(home)}

    def shipyard(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "shipyard", *args],
            cwd=repo,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )

    created = shipyard("release", "create")
    assert created.returncode == 0, created.stderr
    identifier = created.stdout.strip()
    assert "  building\n" in created.stderr
    listed = shipyard("releases")
    assert listed.stdout.splitlines()[0].split() == [
        "ID", "APP", "COMMIT", "STATUS", "BUILD", "SIZE", "AGE"
    ]  # fmt: skip
    assert listed.stdout.splitlines()[1].split()[:4] == [
        identifier, "shop", git(repo, "rev-parse", "HEAD")[:12], "built"
    ]  # fmt: skip
    shown = shipyard("release", "show", identifier[:5], "--log")
    assert shown.stdout.splitlines()[1] == "building"
    with database.open_store(f"sqlite:///{home / 'shipyard.db'}") as store:
        record = records.get_release(store, identifier)
    assert record is not None and (record.app, record.status) == ("shop", "built")
    (repo / "shipyard.yaml").write_text(PROJECT.replace("echo building;", "exit 1;"))
    git(repo, "commit", "-qam", "broken build")
    failed = shipyard("release", "create")
    assert failed.returncode == 2
    assert "error: the build of service `web` failed; release " in failed.stderr
