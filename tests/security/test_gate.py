"""The deploy gate, the project's security settings, and the policy's decisions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shipyard.core import errors
from shipyard.security import findings, gate, interface, policy, registry
from shipyard.spec import project_loader, project_security

KEY = "AKIA" + "P3L8K2J7H4G9F1D6"


def _project(root: Path, security: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "shipyard.yaml").write_text(
        f"app: shop\nservices:\n  web:\n    run: python -m shop\n{security}", encoding="utf-8"
    )
    return root


def test_the_gate_fails_closed_on_findings_and_writes_its_report(
    tmp_path: Path, shipyard_home: Path
) -> None:
    root = _project(tmp_path / "repo", "security:\n  scanners: [secrets, dast]\n")
    (root / "keys.py").write_text(f'KEY = "{KEY}"\n', encoding="utf-8")
    project = project_loader.load_project_file(root / "shipyard.yaml")
    result = gate.run_gate(root, project)
    assert not result.passed
    assert result.exit_code == policy.EXIT_FINDINGS
    assert result.summary == "security gate failed: 1 critical; 1 at or above the threshold"
    assert result.report_path.parent == shipyard_home / "security" / "shop"
    runs = json.loads(result.report_path.read_text(encoding="utf-8"))["runs"]
    assert [run["properties"]["scanner"] for run in runs] == ["secrets"]
    (root / "keys.py").write_text('KEY = os.environ["KEY"]\n', encoding="utf-8")
    assert gate.run_gate(root, project).passed


def test_the_gate_reads_the_project_file_when_not_given_one(
    tmp_path: Path, shipyard_home: Path
) -> None:
    root = _project(tmp_path / "repo", "security:\n  fail_on: never\n  scanners: [secrets]\n")
    (root / "keys.py").write_text(f'KEY = "{KEY}"\n', encoding="utf-8")
    result = gate.run_gate(root, None)
    assert result.passed
    assert result.summary == "security gate passed: 1 critical"
    assert result.report_path.parent == shipyard_home / "security" / "shop"


def test_the_gate_without_a_project_uses_the_defaults(tmp_path: Path, shipyard_home: Path) -> None:
    (tmp_path / "app.py").write_text("print('ok')\n", encoding="utf-8")
    result = gate.run_gate(tmp_path, None, report_dir=tmp_path / "reports")
    assert result.passed, result.summary
    assert result.report_path.parent == tmp_path / "reports"
    runs = json.loads(result.report_path.read_text(encoding="utf-8"))["runs"]
    assert "dast" not in {run["properties"]["scanner"] for run in runs}


def test_the_security_section_is_read_with_defaults() -> None:
    text = (
        "app: shop\nservices:\n  web:\n    run: x\nsecurity:\n  fail_on: medium\n  strict: true\n"
        "  scanners: [secrets, sast, secrets]\n  baseline: sec/base.json\n  exclude: [vendor]\n"
        "  osv_db: .osv\n  sbom: out/sbom.json\n  dast: http://127.0.0.1:8081\n"
    )
    settings = project_loader.load_project(text, path="shipyard.yaml").security
    assert settings == project_security.SecuritySettings(
        fail_on="medium", strict=True, scanners=("secrets", "sast"), baseline="sec/base.json",
        exclude=("vendor",), osv_db=".osv", sbom="out/sbom.json", dast="http://127.0.0.1:8081",
    )  # fmt: skip
    plain = project_loader.load_project("app: shop\nservices:\n  web:\n    run: x\n", path="p")
    assert plain.security == project_security.SecuritySettings()


def test_every_problem_in_the_section_is_reported_at_its_place() -> None:
    text = "app: shop\nservices:\n  web:\n    run: x\nsecurity:\n  strict: 1\n  fial_on: high\n"
    with pytest.raises(errors.SpecErrors) as raised:
        project_loader.load_project(text, path="shipyard.yaml")
    assert raised.value.render() == (
        "shipyard.yaml:6:11: security.strict: expected `true` or `false`, found the number `1`\n"
        "shipyard.yaml:7:3: security.fial_on: unknown key `fial_on`\n"
        "  hint: did you mean `fail_on`?\n"
        "2 errors"
    )


def test_the_spec_knows_every_scanner_the_registry_has() -> None:
    assert tuple(registry.SCANNERS) == project_security.SCANNER_NAMES


def _finding(
    severity: findings.Severity, category: str = "issue", fp: str = "f"
) -> findings.Finding:
    return findings.Finding("r", "s", severity, "m", findings.Location("a.py"), fp, category)


def _result(*found: findings.Finding, error: str | None = None) -> interface.ScanResult:
    return interface.ScanResult("s", "t", "1", {}, found, error=error)


@pytest.mark.parametrize(
    ("fail_on", "strict", "found", "exit_code"),
    [
        (findings.Severity.HIGH, False, [findings.Severity.MEDIUM], 0),
        (findings.Severity.HIGH, False, [findings.Severity.HIGH], 1),
        (findings.Severity.MEDIUM, False, [findings.Severity.MEDIUM], 1),
        (None, False, [findings.Severity.CRITICAL], 0),
    ],
)
def test_the_threshold(
    fail_on: findings.Severity | None, strict: bool, found: list[findings.Severity], exit_code: int
) -> None:
    decision = policy.decide(policy.Policy(fail_on, strict), [_result(*map(_finding, found))])
    assert decision.exit_code == exit_code


def test_not_audited_counts_only_when_strict_and_failed_scanners_always_fail() -> None:
    unaudited = _finding(findings.Severity.INFO, findings.NOT_AUDITED)
    assert policy.decide(policy.Policy(), [_result(unaudited)]).passed
    strict = policy.decide(policy.Policy(strict=True), [_result(unaudited)])
    assert strict.exit_code == policy.EXIT_FINDINGS
    broken = policy.decide(policy.Policy(fail_on=None), [_result(error="bandit crashed")])
    assert broken.exit_code == policy.EXIT_SCANNER_FAILED
    assert broken.summary() == "security gate failed: no findings; scanners that failed: s"


def test_the_baseline_suppresses_by_fingerprint() -> None:
    found = [_finding(findings.Severity.HIGH, fp="old"), _finding(findings.Severity.HIGH, fp="new")]
    marked = policy.apply_baseline(found, {"old"})
    assert [f.suppressed for f in marked] == ["baseline", None]
    decision = policy.decide(policy.Policy(), [_result(*marked)])
    assert (decision.exit_code, decision.suppressed, len(decision.failing)) == (1, 1, 1)
