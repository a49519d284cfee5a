"""End-to-end: composite, JavaScript and remote actions, reusable workflows, concurrency."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import shipyard

COMPOSITE_FILES = {
    ".github/actions/greet/action.yml": """
        name: Greet
        inputs:
          who:
            required: true
          punctuation:
            default: "!"
        outputs:
          message:
            value: ${{ steps.make.outputs.message }}
        runs:
          using: composite
          steps:
            - id: make
              shell: bash
              run: echo "message=Hello, ${{ inputs.who }}${{ inputs.punctuation }}" >> "$GITHUB_OUTPUT"
            - uses: ./.github/actions/shout
              with:
                text: ${{ steps.make.outputs.message }}
            - shell: bash
              run: echo "GREETED=yes" >> "$GITHUB_ENV"
    """,
    ".github/actions/shout/action.yml": """
        name: Shout
        inputs:
          text: {}
        runs:
          using: composite
          steps:
            - shell: bash
              run: echo "SHOUT ${{ inputs.text }} from $(basename ${{ github.action_path }})"
    """,
    ".github/workflows/a.yml": """
        on: push
        jobs:
          use:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v4
              - id: greet
                uses: ./.github/actions/greet
                with:
                  who: Shipyard
              - run: echo "got=${{ steps.greet.outputs.message }} greeted=$GREETED"
    """,
}


def test_local_composite_actions_with_inputs_outputs_and_nesting(repo, home: Path) -> None:
    root = repo(COMPOSITE_FILES)
    done = shipyard("run", "--json", cwd=root, home=home)
    assert done.returncode == 0, done.stderr
    assert "SHOUT Hello, Shipyard! from shout" in done.stderr
    assert "got=Hello, Shipyard! greeted=yes" in done.stderr
    assert [name for name, _ in done.steps("use")] == [
        "Run actions/checkout@v4",
        "Run ./.github/actions/greet",
        'Run echo "got=${{ steps.greet.outputs.message }} greeted=$GREETED"',
    ]


REUSABLE_FILES = {
    ".github/workflows/build.yml": """
        on:
          workflow_call:
            inputs:
              flavour:
                type: string
                required: true
              count:
                type: number
                default: 2
            secrets:
              token:
                required: true
            outputs:
              artifact:
                value: ${{ jobs.make.outputs.name }}
        jobs:
          make:
            runs-on: ubuntu-latest
            outputs:
              name: ${{ steps.n.outputs.name }}
            steps:
              - id: n
                run: |
                  echo "flavour=${{ inputs.flavour }} count=${{ inputs.count }} token=${{ secrets.token }}"
                  echo "name=${{ inputs.flavour }}-${{ inputs.count }}" >> "$GITHUB_OUTPUT"
    """,
    ".github/workflows/main.yml": """
        on: push
        jobs:
          call:
            uses: ./.github/workflows/build.yml
            with:
              flavour: vanilla
            secrets:
              token: ${{ secrets.DEPLOY_TOKEN }}
          after:
            needs: call
            runs-on: ubuntu-latest
            steps:
              - run: echo "artifact=${{ needs.call.outputs.artifact }}"
    """,
}


def test_local_reusable_workflow_with_inputs_secrets_and_outputs(repo, home: Path) -> None:
    root = repo(REUSABLE_FILES)
    done = shipyard(
        "run", "main", "--json", "--secret", "DEPLOY_TOKEN=tok-123456", cwd=root, home=home
    )
    assert done.returncode == 0, done.stderr
    assert "flavour=vanilla count=2 token=***" in done.stderr
    assert "artifact=vanilla-2" in done.stderr
    assert [job["key"] for job in done.report["jobs"]] == ["call / make", "after"]


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_javascript_action_runs_with_node_and_its_post_step(repo, home: Path) -> None:
    root = repo(
        {
            "act/action.yml": """
                name: js
                inputs:
                  who-am-i: {default: nobody}
                runs:
                  using: node20
                  main: main.js
                  post: post.js
            """,
            "act/main.js": """
                const fs = require('fs');
                console.log('main says ' + process.env['INPUT_WHO-AM-I']);
                fs.appendFileSync(process.env.GITHUB_OUTPUT, 'seen=yes\\n');
            """,
            "act/post.js": "console.log('post ran');\n",
            ".github/workflows/js.yml": """
                on: push
                jobs:
                  js:
                    runs-on: ubuntu-latest
                    steps:
                      - uses: actions/checkout@v4
                      - id: js
                        uses: ./act
                        with:
                          who-am-i: tester
                      - run: echo "seen=${{ steps.js.outputs.seen }}"
            """,
        }
    )
    done = shipyard("run", "--json", cwd=root, home=home)
    assert done.returncode == 0, done.stderr
    assert "main says tester" in done.stderr
    assert "seen=yes" in done.stderr
    assert "post ran" in done.stderr
    assert [name for name, _ in done.steps("js")][-1] == "Post js"


def test_remote_action_missing_fails_before_the_job_with_how_to_provide_it(
    repo, home: Path
) -> None:
    root = repo(
        {
            ".github/workflows/r.yml": """
                on: push
                jobs:
                  remote:
                    runs-on: ubuntu-latest
                    steps:
                      - run: echo first
                      - uses: someone/some-action@v3
            """
        }
    )
    done = shipyard("run", "--json", cwd=root, home=home)
    assert done.returncode == 1
    job = done.job("remote")
    assert job["steps"] == []
    message = job["annotations"][0]["message"]
    assert "action `someone/some-action@v3` is not available on this machine" in message
    assert str(home / "actions" / "someone" / "some-action@v3") in message


def test_remote_action_from_the_local_action_directory(repo, home: Path) -> None:
    action = home / "actions" / "someone" / "hello@v1"
    action.mkdir(parents=True)
    (action / "action.yml").write_text(
        "name: hello\nruns:\n  using: composite\n  steps:\n"
        "    - shell: bash\n      run: echo hello from a stored action\n"
    )
    root = repo(
        {
            ".github/workflows/r.yml": """
                on: push
                jobs:
                  remote:
                    runs-on: ubuntu-latest
                    steps:
                      - uses: someone/hello@v1
            """
        }
    )
    done = shipyard("run", "--json", cwd=root, home=home)
    assert done.returncode == 0, done.stderr
    assert "hello from a stored action" in done.stderr


CONCURRENCY = """
on: push
jobs:
  a:
    runs-on: ubuntu-latest
    concurrency: shared
    steps:
      - run: |
          test ! -e "{lock}"; touch "{lock}"; sleep 0.5; rm "{lock}"
  b:
    runs-on: ubuntu-latest
    concurrency: shared
    steps:
      - run: |
          test ! -e "{lock}"; touch "{lock}"; sleep 0.5; rm "{lock}"
"""


def test_jobs_in_one_concurrency_group_never_overlap(repo, home: Path, tmp_path: Path) -> None:
    lock = tmp_path / "lock"
    root = repo({".github/workflows/c.yml": CONCURRENCY.format(lock=lock)})
    done = shipyard("run", "--json", "--jobs", "2", cwd=root, home=home)
    assert done.returncode == 0, done.stderr
    assert {job["conclusion"] for job in done.report["jobs"]} == {"success"}


def test_unknown_runner_label_fails_with_label_map_hint(repo, home: Path) -> None:
    root = repo(
        {
            ".github/workflows/l.yml": """
                on: push
                jobs:
                  mac:
                    runs-on: macos-latest
                    steps:
                      - run: echo "ran on $RUNNER_OS"
            """
        }
    )
    done = shipyard("run", "--json", cwd=root, home=home)
    assert done.returncode == 1
    message = done.job("mac")["annotations"][0]["message"]
    assert "no runner here matches runs-on `macos-latest`" in message
    assert "--label-map macos-latest=local" in message
    mapped = shipyard("run", "--json", "--label-map", "macos-latest=local", cwd=root, home=home)
    assert mapped.returncode == 0
    assert "ran on Linux" in mapped.stderr
