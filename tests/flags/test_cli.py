"""`shipyard flags check|eval` without a server, and their refusals."""

from __future__ import annotations

import json
from pathlib import Path

from tests.server.harness import shipyard

PROJECT = "app: shop\nservices: {web: {run: x}}\nflags: flags.json\nenvironments: {staging: {}}\n"


def _project(root: Path, flags: object, project: str = PROJECT) -> Path:
    root.mkdir(exist_ok=True)
    (root / "shipyard.yaml").write_text(project)
    if flags is not None:
        (root / "flags.json").write_text(flags if isinstance(flags, str) else json.dumps(flags))
    return root


def test_check_reports_every_broken_flag_and_fails(tmp_path: Path) -> None:
    flags = {
        "flags": {
            "ok": {"state": "ENABLED", "variants": {"a": 1}, "defaultVariant": "a"},
            "bad": {"state": "ENABLED", "variants": {"a": 1}, "defaultVariant": "b"},
        }
    }
    root = _project(tmp_path / "p", flags)
    done = shipyard("flags", "check", cwd=root, home=tmp_path / "home")
    assert done.returncode == 2
    assert done.stderr == (
        "error: flags.json: /flags/bad/defaultVariant: flag `bad`: default variant `b` is not one "
        "of `a`\n"
    )
    assert done.stdout == "flags.json: 1 valid flag(s), 1 invalid\n"


def test_refusals_say_what_to_do(tmp_path: Path) -> None:
    home = tmp_path / "home"
    missing = shipyard("flags", "check", cwd=_project(tmp_path / "a", None), home=home)
    assert (missing.returncode, missing.stderr) == (
        2,
        "error: flags.json: no such flags file\n"
        "  hint: create it, or fix `flags:` in shipyard.yaml\n",
    )
    not_json = shipyard("flags", "check", cwd=_project(tmp_path / "b", "{"), home=home)
    assert "flags.json: /: invalid JSON at line 1 column 2" in not_json.stderr
    no_flags = _project(tmp_path / "c", None, "app: shop\nservices: {web: {run: x}}\n")
    none = shipyard("flags", "eval", "x", cwd=no_flags, home=home)
    assert none.stderr == (
        "error: shipyard.yaml: the project has no flags file\n"
        "  hint: add `flags: flags.json` to shipyard.yaml (flagd's JSON format)\n"
    )
    root = _project(tmp_path / "d", {"flags": {}})
    context = shipyard("flags", "eval", "x", "--context", "[1]", cwd=root, home=home)
    assert context.stderr.startswith("error: --context: must be a JSON object")
    unknown = shipyard("flags", "eval", "x", "--env", "prod", cwd=root, home=home)
    assert unknown.stderr.startswith("error: shipyard.yaml: unknown environment `prod`")
    assert unknown.returncode == 2


def test_push_of_an_unknown_release_is_refused_before_any_server(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", {"flags": {}})
    home = tmp_path / "home"
    done = shipyard("flags", "push", "--env", "staging", "--release", "nope", cwd=root, home=home)
    assert (done.returncode, done.stderr) == (
        2,
        "error: --release nope: no release `nope` of app `shop`\n"
        "  hint: create one: `shipyard release create`\n",
    )
    assert not (home / "server.json").exists()
