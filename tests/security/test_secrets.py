"""Secret detection: recall and false positives on a planted corpus, history, suppression."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from shipyard.security import engine, interface, report, sarif, secret_rules, secret_search
from shipyard.security.scanners import secrets
from tests.security import secret_corpus

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
}


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True,
        env={**os.environ, **GIT_IDENTITY}, timeout=60,
    )  # fmt: skip
    return done.stdout.strip()


def _scan(root: Path, history: bool = False) -> interface.ScanResult:
    return secrets.SecretScanner().scan(interface.ScanContext(root=root, history=history))


def test_the_corpus_plants_at_least_forty_kinds_one_per_rule() -> None:
    assert len(secret_corpus.KINDS) >= 40
    assert set(secret_corpus.KINDS) == {rule.id for rule in secret_rules.RULES}


def test_recall_and_false_positives_on_the_planted_corpus(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    planted = secret_corpus.write_corpus(tmp_path)
    result = _scan(tmp_path)
    found = {(f.rule_id.removeprefix("secret/"), f.location.path) for f in result.findings}
    recalled = [p for p in planted if (p.kind, p.path) in found]
    expected = {(p.kind, p.path) for p in planted}
    false_positives = [
        f for f in result.findings
        if (f.rule_id.removeprefix("secret/"), f.location.path) not in expected
        and f.suppressed is None
    ]  # fmt: skip
    recall = len(recalled) / len(planted)
    with capsys.disabled():
        print(f"\nsecrets: recall {len(recalled)}/{len(planted)}, "
              f"false positives {len(false_positives)} on {len(secret_corpus.LOOK_ALIKES)} "
              "look-alike files")  # fmt: skip
    assert recall >= 0.98, sorted(expected - found)
    assert false_positives == []
    allowed = [f for f in result.findings if f.suppressed == "inline"]
    assert [(f.location.path, f.rule_id) for f in allowed] == [
        ("app/allowed.py", "secret/stripe-secret-key")
    ]


def test_no_report_ever_shows_a_secret(tmp_path: Path) -> None:
    planted = secret_corpus.write_corpus(tmp_path)
    plan = engine.plan_scan(tmp_path, overrides=engine.Overrides(scanners=("secrets",)))
    outcome = engine.run_scan(plan)
    texts = [
        json.dumps(sarif.build(tmp_path, outcome.results)),
        json.dumps(report.as_json(outcome.results, outcome.decision, plan.policy)),
        report.as_text(outcome.results, outcome.decision, plan.policy),
    ]
    for item in planted:
        for text in texts:
            assert item.secret not in text, item.kind
    aws = next(f for f in outcome.all_findings if f.rule_id == "secret/aws-access-key-id")
    assert aws.message == "AWS access key ID `AKIA************`"
    assert aws.location.snippet == 'AWS_ACCESS_KEY_ID = "AKIA************"'


def test_findings_point_at_the_line_and_column(tmp_path: Path) -> None:
    token = "ghp_" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3hJ5"
    (tmp_path / "deploy.sh").write_text(f"#!/bin/sh\n\n  export T={token}\n", encoding="utf-8")
    (finding,) = _scan(tmp_path).findings
    assert (finding.location.path, finding.location.line, finding.location.column) == (
        "deploy.sh",
        3,
        12,
    )
    assert finding.rule_id == "secret/github-pat"


def test_history_finds_a_secret_removed_from_the_tree(tmp_path: Path) -> None:
    token = "glpat-" + "Zq8Xw2Rt6Yp4Lk9Mn3Bv"
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "ci.env").write_text(f"A=1\nGITLAB={token}\n", encoding="utf-8")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "add ci env")
    leaked = git(tmp_path, "rev-parse", "HEAD")
    (tmp_path / "ci.env").write_text("A=1\n", encoding="utf-8")
    git(tmp_path, "commit", "-q", "-am", "remove the token")
    assert _scan(tmp_path).findings == []
    (finding,) = _scan(tmp_path, history=True).findings
    assert finding.rule_id == "secret/gitlab-pat"
    assert (finding.location.path, finding.location.line) == ("ci.env", 2)
    assert finding.properties["commit"] == leaked
    assert token not in finding.message and leaked[:12] in finding.message


def test_in_a_repository_what_git_ignores_is_not_scanned(tmp_path: Path) -> None:
    token = "glpat-" + "Zq8Xw2Rt6Yp4Lk9Mn3Bv"
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / ".gitignore").write_text("build/\n")
    for name in ("build/out.env", "new.env", "tracked.env"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(f"T={token}\n")
    git(tmp_path, "add", ".gitignore", "tracked.env")
    git(tmp_path, "commit", "-q", "-m", "one")
    paths = sorted(f.location.path for f in _scan(tmp_path).findings)
    assert paths == ["new.env", "tracked.env"]


def test_history_needs_a_repository(tmp_path: Path) -> None:
    from shipyard.core import errors

    with pytest.raises(errors.UsageError, match="--history needs a git repository"):
        _scan(tmp_path, history=True)


def test_a_finding_keeps_its_fingerprint_when_lines_move(tmp_path: Path) -> None:
    key = "AKIA" + "Q7W2E9R4T6Y1U3I8"
    file = tmp_path / "settings.py"
    file.write_text(f'KEY = "{key}"\n', encoding="utf-8")
    (before,) = _scan(tmp_path).findings
    file.write_text(f'"""Settings."""\n\nimport os\n\nKEY = "{key}"\n', encoding="utf-8")
    (after,) = _scan(tmp_path).findings
    assert after.location.line == 5
    assert after.fingerprint == before.fingerprint


def test_the_allow_comment_works_on_the_line_and_the_line_above() -> None:
    key = "AKIA" + "Q7W2E9R4T6Y1U3I8"
    text = f'# shipyard:allow-secret (test fixture)\nA = "{key}"\nB = "{key}X"[:-1]\n'
    hits = secret_search.search(text)
    assert [(hit.line, hit.allowed) for hit in hits] == [(2, True)]
    same_line = secret_search.search(f'A = "{key}"  # shipyard:allow-secret\n')
    assert [hit.allowed for hit in same_line] == [True]


@pytest.mark.parametrize(
    "text",
    [
        'password = "password"',
        "password = get_password()",
        'api_key = "${API_KEY}"',
        'token: "{{ vault_token }}"',
        'checksum_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"',
        'secret_id = "123e4567-e89b-12d3-a456-426614174000"',
        "DB_PASSWORD=",
        'AKIA = "AKIAIOSFODNN7EXAMPLE"',
    ],
)
def test_look_alikes_are_not_secrets(text: str) -> None:
    assert secret_search.search(text) == []
