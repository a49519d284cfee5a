"""bandit in-process, semgrep's absence, and the CycloneDX SBOM."""

from __future__ import annotations

import json
from pathlib import Path

from shipyard.security import interface
from shipyard.security.scanners import bandit_sast, sbom, semgrep_sast


def test_bandit_runs_in_process_over_the_tree(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "run.py").write_text(
        "import subprocess\n\n\ndef run(cmd):\n    subprocess.call(cmd, shell=True)\n"
        "    subprocess.call(cmd, shell=True)  # nosec B602\n",
        encoding="utf-8",
    )
    (tmp_path / "app" / "broken.py").write_text("def broken(:\n", encoding="utf-8")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "vendored.py").write_text("eval(input())\n", encoding="utf-8")
    result = bandit_sast.BanditScanner().scan(interface.ScanContext(root=tmp_path))
    found = sorted((f.rule_id, f.location.path, f.location.line, f.severity.label)
                   for f in result.findings)  # fmt: skip
    assert found == [
        ("bandit/B404", "app/run.py", 1, "low"),
        ("bandit/B602", "app/run.py", 5, "high"),
    ]
    assert result.rules["bandit/B602"].name == "subprocess_popen_with_shell_equals_true"
    assert result.rules["bandit/B404"].short.startswith("Consider possible security implications")
    assert [n.message for n in result.notices] == [
        "app/broken.py: not analysed (syntax error while parsing AST from file)"
    ]
    shell = next(f for f in result.findings if f.rule_id == "bandit/B602")
    assert shell.properties == {"confidence": "high", "cwe": "CWE-78"}
    assert shell.location.snippet == "subprocess.call(cmd, shell=True)"


def test_semgrep_that_is_not_installed_is_reported_not_assumed(tmp_path: Path) -> None:
    context = interface.ScanContext(root=tmp_path, semgrep=str(tmp_path / "no-semgrep"))
    result = semgrep_sast.SemgrepScanner().scan(context)
    assert not result.ran and result.error is None
    assert result.notices[0].message.startswith("semgrep is not installed")


def test_the_sbom_is_cyclonedx_json_with_package_urls(tmp_path: Path) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    (tmp_path / "requirements.txt").write_text("Jinja2==3.1.2\nrequests>=2\n", encoding="utf-8")
    (tmp_path / "package-lock.json").write_text(json.dumps({"lockfileVersion": 3, "packages": {
        "node_modules/@types/node": {"version": "20.1.0"}}}), encoding="utf-8")  # fmt: skip
    output = tmp_path / "out" / "sbom.cdx.json"
    context = interface.ScanContext(root=tmp_path, sbom_path=output)
    result = sbom.SbomScanner().scan(context)
    assert list(result.artifacts) == [output]
    text = output.read_text(encoding="utf-8")
    assert JsonStrictValidator(SchemaVersion.V1_5).validate_str(text) is None
    document = json.loads(text)
    assert (document["bomFormat"], document["specVersion"]) == ("CycloneDX", "1.5")
    assert sorted((c["name"], c.get("version"), c["purl"]) for c in document["components"]) == [
        ("@types/node", "20.1.0", "pkg:npm/%40types/node@20.1.0"),
        ("Jinja2", "3.1.2", "pkg:pypi/jinja2@3.1.2"),
        ("requests", None, "pkg:pypi/requests"),
    ]
