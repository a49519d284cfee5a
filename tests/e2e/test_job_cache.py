"""End-to-end: the job cache replays unchanged jobs and explains misses."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import git, shipyard

WORKFLOW = """
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    outputs:
      digest: ${{ steps.d.outputs.digest }}
    steps:
      - uses: actions/checkout@v4
      - id: d
        run: |
          echo "building $(cat src/app.txt)"
          echo "digest=$(sha256sum src/app.txt | cut -c1-12)" >> "$GITHUB_OUTPUT"
          mkdir -p out && cp src/app.txt out/app.txt
          echo "### built" >> "$GITHUB_STEP_SUMMARY"
          echo "::warning::a recorded warning"
      - uses: actions/upload-artifact@v4
        with:
          name: app
          path: out/
  test:
    needs: build
    runs-on: ubuntu-latest
    x-shipyard:
      cache:
        inputs: [src/**]
    steps:
      - uses: actions/download-artifact@v4
        with:
          name: app
      - run: echo "testing ${{ needs.build.outputs.digest }} $(cat app.txt)"
  never:
    runs-on: ubuntu-latest
    x-shipyard: {cache: false}
    steps:
      - run: echo "always runs"
  secretive:
    runs-on: ubuntu-latest
    steps:
      - run: echo "token ${{ secrets.TOKEN }}"
"""


def _cached(result) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    return {job["key"]: job["cached"] for job in result.report["jobs"]}


def test_unchanged_jobs_replay_with_outputs_artifacts_and_logs(repo, home: Path) -> None:
    root = repo({".github/workflows/ci.yml": WORKFLOW, "src/app.txt": "v1\n", "docs/a.md": "x"})
    first = shipyard("run", "--json", "--secret", "TOKEN=abc12345", cwd=root, home=home)
    assert first.returncode == 0, first.stderr
    assert _cached(first) == {"build": False, "test": False, "never": False, "secretive": False}

    second = shipyard("run", "--json", "--secret", "TOKEN=abc12345", cwd=root, home=home)
    assert second.returncode == 0, second.stderr
    assert _cached(second) == {"build": True, "test": True, "never": False, "secretive": False}
    build = second.job("build")
    assert build["outputs"] == first.job("build")["outputs"]
    assert build["summary"] == "### built\n"
    assert [a["message"] for a in build["annotations"]] == ["a recorded warning"]
    assert [s["conclusion"] for s in build["steps"]] == ["success"] * 3
    run_dir = Path(second.report["run_dir"])
    assert (run_dir / "artifacts" / "app").is_dir()
    logs = sorted(p.name for p in (run_dir / "logs" / "build").iterdir())
    assert logs[0].startswith("01_") and logs[-1] == "job.txt" and len(logs) == 4
    assert "building v1" in (run_dir / "logs" / "build" / logs[1]).read_text()
    assert "cached: replaying the result of run" in second.stderr


def test_misses_are_explained_and_inputs_narrow_the_key(repo, home: Path) -> None:
    root = repo({".github/workflows/ci.yml": WORKFLOW, "src/app.txt": "v1\n", "docs/a.md": "x"})
    assert shipyard("run", "--job", "test", cwd=root, home=home).returncode == 0

    (root / "docs" / "a.md").write_text("changed docs")
    git(root, "commit", "-qam", "docs only")
    docs_only = shipyard("run", "--json", "--job", "test", "--explain-cache", cwd=root, home=home)
    assert _cached(docs_only) == {"build": False, "test": True}
    assert "[build]   job cache miss: the files it can see changed" in docs_only.stderr

    (root / "src" / "app.txt").write_text("v2\n")
    git(root, "commit", "-qam", "source")
    changed = shipyard("run", "--json", "--job", "test", "--explain-cache", cwd=root, home=home)
    assert _cached(changed) == {"build": False, "test": False}
    assert "testing" in changed.stderr and "v2" in changed.stderr
    assert "[test]   job cache miss: the files it can see changed" in changed.stderr

    again = shipyard("run", "--json", "--job", "never", "--explain-cache", cwd=root, home=home)
    assert "not cached: x-shipyard.cache is false" in again.stderr
    no_cache = shipyard("run", "--json", "--job", "test", "--no-cache", cwd=root, home=home)
    assert _cached(no_cache) == {"build": False, "test": False}


def test_failed_jobs_are_never_recorded(repo, home: Path) -> None:
    root = repo(
        {
            ".github/workflows/f.yml": """
                on: push
                jobs:
                  flaky:
                    runs-on: ubuntu-latest
                    steps:
                      - run: test -f "$HOME_MARKER"
            """
        }
    )
    marker = home / "marker"
    env = {"HOME_MARKER": str(marker)}
    assert shipyard("run", cwd=root, home=home, env=env).returncode == 1
    marker.write_text("now it passes")
    passed = shipyard("run", "--json", cwd=root, home=home, env=env)
    assert passed.returncode == 0
    assert _cached(passed) == {"flaky": False}


def test_artifacts_are_listed_in_the_report_and_extracted_by_the_cli(
    repo, home: Path, tmp_path: Path
) -> None:
    root = repo({".github/workflows/ci.yml": WORKFLOW, "src/app.txt": "v1\n", "docs/a.md": "x"})
    done = shipyard("run", "--json", "--job", "build", cwd=root, home=home)
    assert done.returncode == 0, done.stderr
    [artifact] = done.report["artifacts"]
    assert (artifact["name"], artifact["id"], artifact["files"]) == ("app", 1, 1)
    assert len(artifact["digest"]) == 64
    run_id = done.report["run_id"]
    listed = shipyard("artifacts", run_id, cwd=root, home=home)
    assert listed.returncode == 0
    assert listed.stdout == f"  1  app  3 bytes, 1 files  sha256:{artifact['digest']}\n"
    out = tmp_path / "out"
    extracted = shipyard("artifacts", "latest", "app", "-o", str(out), cwd=root, home=home)
    assert extracted.stdout == f"extracted app: 1 files into {out}\n"
    assert (out / "app.txt").read_text() == "v1\n"
    missing = shipyard("artifacts", run_id, "ap", cwd=root, home=home)
    assert missing.returncode == 2
    assert missing.stderr == (
        f"error: run {run_id} has no artifact `ap`\n  hint: did you mean `app`?\n"
    )


CACHEABLE = """
name: tidy
on: push
jobs:
  make:
    runs-on: ubuntu-latest
    outputs:
      size: ${{ steps.s.outputs.size }}
    steps:
      - uses: actions/checkout@v4
      - id: s
        run: |
          wc -c < src/app.txt
          echo "size=$(wc -c < src/app.txt)" >> "$GITHUB_OUTPUT"
          mkdir out && cp src/app.txt out/
      - uses: actions/upload-artifact@v4
        with: {name: made, path: out/}
  use:
    needs: make
    runs-on: ubuntu-latest
    steps:
      - run: echo "size ${{ needs.make.outputs.size }}"
"""


def test_an_unchanged_rerun_replays_the_whole_run(repo, home: Path) -> None:
    root = repo({".github/workflows/t.yml": CACHEABLE, "src/app.txt": "v1\n"})
    first = shipyard("run", "--json", cwd=root, home=home)
    assert first.returncode == 0, first.stderr
    assert first.report["replayable"] is True

    again = shipyard("run", "--json", cwd=root, home=home)
    assert again.returncode == 0, again.stderr
    report = again.report
    assert "replaying run" in again.stderr
    assert report["replayed_from"] == first.report["run_id"]
    assert report["run_id"] != first.report["run_id"]
    assert [(j["key"], j["cached"], j["outputs"]) for j in report["jobs"]] == [
        ("make", True, {"size": "3"}),
        ("use", True, {}),
    ]
    run_dir = Path(report["run_dir"])
    assert (run_dir / "report.json").is_file()
    assert (run_dir / "artifacts" / "made" / "manifest.json").is_file()
    assert any((run_dir / "logs" / "make").iterdir())
    listed = shipyard("artifacts", report["run_id"], cwd=root, home=home)
    assert "made  3 bytes, 1 files" in listed.stdout

    (root / "src" / "app.txt").write_text("v22\n")
    git(root, "commit", "-qam", "change")
    changed = shipyard("run", "--json", cwd=root, home=home)
    assert "replaying run" not in changed.stderr
    assert changed.job("make")["cached"] is False
    assert changed.job("make")["outputs"] == {"size": "4"}
    no_cache = shipyard("run", "--json", "--no-cache", cwd=root, home=home)
    assert "replaying run" not in no_cache.stderr
    assert no_cache.job("make")["cached"] is False
