"""Reading dependency manifests and lock files, and auditing them against OSV."""

from __future__ import annotations

import json
from pathlib import Path

from shipyard.security import interface, manifests
from shipyard.security.scanners import dependencies
from tests.conftest import CORPUS

OSV_PYPI = CORPUS / "osv-pypi" / "vulns"


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _found(root: Path) -> list[tuple[str, str, str | None, str, int]]:
    found, problems = manifests.discover(root, interface.DEFAULT_EXCLUDES)
    assert problems == []
    return sorted((d.ecosystem, d.name, d.version, d.path, d.line) for d in found)


def test_requirements_with_includes_hashes_continuations_and_options(tmp_path: Path) -> None:
    _write(tmp_path, {
        "requirements.txt": (
            "# app\n--index-url https://pypi.example.invalid/simple\n-r requirements/base.txt\n"
            "-c constraints.txt\nJinja2==2.10 \\\n    --hash=sha256:aaaa \\\n"
            "    --hash=sha256:bbbb\n"
            "requests[socks]>=2.0 ; python_version >= '3.8'\n-e ./local\n"
            "pkg @ https://example.invalid/pkg.whl\n"
        ),
        "requirements/base.txt": "urllib3===1.26.4  # pinned\n-r ../requirements.txt\n",
        "constraints.txt": "idna==2.5\n",
    })  # fmt: skip
    found, _ = manifests.discover(tmp_path, interface.DEFAULT_EXCLUDES)
    by_name = {d.name: d for d in found}
    assert by_name["Jinja2"].version == "2.10" and by_name["Jinja2"].line == 5
    assert by_name["urllib3"].version == "1.26.4"
    assert by_name["idna"].path == "constraints.txt"
    assert by_name["requests"].reason == "not pinned (>=2.0)"
    assert by_name["pkg"].reason == "installed from https://example.invalid/pkg.whl"
    assert by_name["./local"].reason == "an editable install"
    assert len(found) == 6


def test_pyproject_pep_621_and_poetry(tmp_path: Path) -> None:
    _write(tmp_path, {"pyproject.toml": (
        '[project]\nname = "shop"\ndependencies = ["flask==2.0.0", "click>=8"]\n'
        '[project.optional-dependencies]\ndev = ["pytest==7.0.0"]\n'
        '[tool.poetry.dependencies]\npython = "^3.11"\ndjango = "3.2.0"\n'
        'numpy = "^1.26"\nlocal = { path = "../local" }\n'
        '[tool.poetry.group.test.dependencies]\nhypothesis = { version = "==6.0.0" }\n'
    )})  # fmt: skip
    assert _found(tmp_path) == [
        ("PyPI", "click", None, "pyproject.toml", 3),
        ("PyPI", "django", "3.2.0", "pyproject.toml", 8),
        ("PyPI", "flask", "2.0.0", "pyproject.toml", 3),
        ("PyPI", "hypothesis", "6.0.0", "pyproject.toml", 12),
        ("PyPI", "local", None, "pyproject.toml", 10),
        ("PyPI", "numpy", None, "pyproject.toml", 9),
        ("PyPI", "pytest", "7.0.0", "pyproject.toml", 5),
    ]


def test_lock_files_win_over_the_project_file_beside_them(tmp_path: Path) -> None:
    _write(tmp_path, {
        "pyproject.toml": '[project]\nname = "shop"\ndependencies = ["flask>=2"]\n',
        "uv.lock": (
            'version = 1\n[[package]]\nname = "shop"\nversion = "0.1.0"\n'
            'source = { editable = "." }\n[[package]]\nname = "flask"\nversion = "2.0.1"\n'
            'source = { registry = "https://pypi.example.invalid/simple" }\n'
        ),
        "svc/poetry.lock": '[[package]]\nname = "pyyaml"\nversion = "5.3"\n',
        "svc/Pipfile.lock": json.dumps({"default": {"urllib3": {"version": "==1.24.1"}},
                                        "develop": {"mypy": {"version": "*"}}}, indent=1),
        "web/package-lock.json": json.dumps({"lockfileVersion": 3, "packages": {
            "": {"name": "web"}, "node_modules/lodash": {"version": "4.17.20"},
            "node_modules/@scope/pkg": {"version": "1.0.0"},
            "node_modules/linked": {"link": True},
            "node_modules/gitdep": {"version": "git+https://example.invalid/x.git"}}}, indent=1),
        "old/package-lock.json": json.dumps({"lockfileVersion": 1, "dependencies": {
            "minimist": {"version": "0.0.8", "dependencies": {"x": {"version": "1.2.3"}}}}}),
    })  # fmt: skip
    found = _found(tmp_path)
    assert [(e, n, v, p) for e, n, v, p, _ in found] == [
        ("PyPI", "flask", "2.0.1", "uv.lock"),
        ("PyPI", "mypy", None, "svc/Pipfile.lock"),
        ("PyPI", "pyyaml", "5.3", "svc/poetry.lock"),
        ("PyPI", "urllib3", "1.24.1", "svc/Pipfile.lock"),
        ("npm", "@scope/pkg", "1.0.0", "web/package-lock.json"),
        ("npm", "gitdep", None, "web/package-lock.json"),
        ("npm", "lodash", "4.17.20", "web/package-lock.json"),
        ("npm", "minimist", "0.0.8", "old/package-lock.json"),
        ("npm", "x", "1.2.3", "old/package-lock.json"),
    ]


def test_an_unreadable_manifest_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    _write(tmp_path, {"poetry.lock": "[[package]\nname=", "requirements.txt": "-r missing.txt\n"})
    found, problems = manifests.discover(tmp_path, interface.DEFAULT_EXCLUDES)
    assert found == []
    assert sorted(p.path for p in problems) == ["poetry.lock", "requirements.txt"]
    assert "included file missing.txt does not exist" in problems[-1].message


def _scan(root: Path, database: Path | None) -> interface.ScanResult:
    return dependencies.DependencyScanner().scan(interface.ScanContext(root=root, osv_db=database))


def test_vulnerable_packages_are_reported_with_aliases_severity_and_fixes(tmp_path: Path) -> None:
    _write(tmp_path, {"requirements.txt": "aiohttp==3.7.3\naiohttp-session==2.12.0\n"})
    result = _scan(tmp_path, OSV_PYPI)
    advisory = next(f for f in result.findings if f.rule_id == "PYSEC-2021-76")
    assert advisory.message == (
        "aiohttp 3.7.3 is affected by PYSEC-2021-76 (CVE-2021-21330, GHSA-v6wp-4m6f-gcjg); "
        "fixed in: 3.7.4"
    )
    assert advisory.properties["fixed"] == ["3.7.4"]
    assert advisory.location.line == 1
    assert result.rules["PYSEC-2021-76"].help_uri == "https://osv.dev/vulnerability/PYSEC-2021-76"
    fixed = _write(tmp_path / "fixed", {"requirements.txt": "aiohttp==3.7.4\n"})
    assert "PYSEC-2021-76" not in {f.rule_id for f in _scan(fixed, OSV_PYPI).findings}


def test_what_cannot_be_checked_is_reported_as_not_audited(tmp_path: Path) -> None:
    _write(tmp_path, {"requirements.txt": "flask>=2\nweird===not-a-version\n",
                      "package-lock.json": json.dumps({"lockfileVersion": 3, "packages": {
                          "node_modules/left-pad": {"version": "1.3.0"}}})})  # fmt: skip
    result = _scan(tmp_path, OSV_PYPI)
    reasons = sorted(str(f.properties["reason"]) for f in result.findings)
    assert reasons == [
        "not pinned (>=2)",
        "the advisory database holds no npm records",
        "version not-a-version cannot be parsed",
    ]
    assert all(f.category == "not-audited" for f in result.findings)
    without = _scan(tmp_path, None)
    assert {str(f.properties["reason"]) for f in without.findings} >= {"no advisory database"}
    assert "no OSV database" in without.notices[0].message


def test_severity_comes_from_cvss_then_the_rating_then_defaults_to_high() -> None:
    from shipyard.security import findings

    vector = {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"}
    assert dependencies.severity_of({"severity": [vector]}) == findings.Severity.MEDIUM
    rated = {"database_specific": {"severity": "MODERATE"}}
    assert dependencies.severity_of(rated) == findings.Severity.MEDIUM
    assert dependencies.severity_of({}) == findings.Severity.HIGH
