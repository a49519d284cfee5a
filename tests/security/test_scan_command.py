"""``shipyard scan``: the report files, the exit codes, the baseline and every error path."""

from __future__ import annotations

import http.server
import io
import json
import os
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.conftest import CORPUS

SARIF_SCHEMA = CORPUS / "sarif" / "sarif-2.1" / "schema" / "sarif-schema-2.1.0.json"
OSV_PYPI = CORPUS / "osv-pypi" / "vulns"
AWS_KEY = "AKIA" + "ZX4C7V2B9N5M1L3K"


def shipyard(home: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key != "SHIPYARD_OSV_DB"}
    return subprocess.run(
        [sys.executable, "-m", "shipyard", "scan", *args],
        env={**environment, "SHIPYARD_HOME": str(home)},
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A small repository with one finding per scanner of the tree."""
    root = tmp_path / "repo"
    files = {
        "app/main.py": (
            "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
        ),
        "app/settings.py": f'AWS_ACCESS_KEY_ID = "{AWS_KEY}"\n',
        "requirements.txt": "aiohttp==3.7.3\nflask>=2\n",
        "Dockerfile": "FROM python:3.12-slim\nUSER 10001\n",
        ".github/workflows/ci.yml": (
            "on: push\npermissions: {contents: read}\njobs:\n  t:\n    runs-on: x\n"
            "    steps:\n      - uses: actions/checkout@v4\n"
        ),
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def validate_sarif(document: dict[str, Any]) -> None:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    problems = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    assert [f"{list(p.absolute_path)}: {p.message}" for p in problems] == []


def test_one_sarif_file_with_one_run_per_scanner_validates(project: Path, tmp_path: Path) -> None:
    report = tmp_path / "out" / "scan.sarif"
    done = shipyard(tmp_path / "home", str(project), "--osv-db", str(OSV_PYPI), "-o", str(report))
    assert done.returncode == 1, done.stderr
    assert done.stderr == ""
    document = json.loads(report.read_text(encoding="utf-8"))
    validate_sarif(document)
    runs = {run["properties"]["scanner"]: run for run in document["runs"]}
    assert list(runs) == ["sast", "semgrep", "dependencies", "secrets", "workflows", "dockerfile",
                          "kubernetes", "project", "sbom"]  # fmt: skip
    (secret,) = runs["secrets"]["results"]
    assert secret["ruleId"] == "secret/aws-access-key-id"
    assert secret["level"] == "error"
    location = secret["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "app/settings.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"]["startLine"] == 1
    assert len(secret["partialFingerprints"]["shipyard/v1"]) == 32
    rules = runs["secrets"]["tool"]["driver"]["rules"]
    assert rules[secret["ruleIndex"]]["id"] == "secret/aws-access-key-id"
    assert "Revoke and rotate" in rules[secret["ruleIndex"]]["help"]["text"]
    assert {r["ruleId"] for r in runs["sast"]["results"]} >= {"bandit/B602"}
    assert "PYSEC-2021-76" in {r["ruleId"] for r in runs["dependencies"]["results"]}
    assert runs["semgrep"]["invocations"][0]["toolExecutionNotifications"]
    assert AWS_KEY not in report.read_text(encoding="utf-8")
    assert "security gate failed:" in done.stdout
    assert f"report: {report}" in done.stdout


def test_json_report_and_the_threshold(project: Path, tmp_path: Path) -> None:
    done = shipyard(tmp_path / "home", str(project), "--format", "json", "--scanner", "secrets",
                    "--fail-on", "never")  # fmt: skip
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["passed"] is True
    assert document["policy"] == {"fail_on": "never", "strict": False}
    (finding,) = document["findings"]
    assert (finding["rule"], finding["severity"], finding["fails_gate"]) == (
        "secret/aws-access-key-id",
        "critical",
        False,
    )


def test_the_text_summary_groups_by_severity(project: Path, tmp_path: Path) -> None:
    done = shipyard(tmp_path / "home", str(project), "--scanner", "secrets", "--scanner", "sast")
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0].startswith("sast         ran         2 findings")
    assert lines[1].startswith("secrets      ran         1 findings")
    critical = lines.index("CRITICAL (1)")
    assert lines[critical + 1] == (
        " ✗ app/settings.py:1  secret/aws-access-key-id  AWS access key ID `AKIA************`"
    )
    assert lines.index("HIGH (1)") > critical and "LOW (1)" in lines
    assert (
        lines[-1] == "security gate failed: 1 critical, 1 high, 1 low; 2 at or above the threshold"
    )


def test_the_baseline_accepts_current_findings_and_catches_new_ones(
    project: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    recorded = shipyard(home, str(project), "--scanner", "secrets", "--update-baseline")
    assert recorded.returncode == 0, recorded.stderr
    baseline = project / ".shipyard" / "security-baseline.json"
    assert recorded.stdout == f"baseline {baseline}: 1 findings recorded as accepted\n"
    entries = json.loads(baseline.read_text(encoding="utf-8"))["findings"]
    assert [(e["rule"], e["path"]) for e in entries] == [
        ("secret/aws-access-key-id", "app/settings.py")
    ]
    assert AWS_KEY not in baseline.read_text(encoding="utf-8")
    again = shipyard(home, str(project), "--scanner", "secrets")
    assert again.returncode == 0, again.stdout
    assert again.stdout.endswith("security gate passed: no findings; 1 suppressed\n")
    (project / "app" / "more.py").write_text(
        'TOKEN = "ghp_' + "k3J9x2M7q4W8e1R6t5Y0u3I7o2P9a4S6d1F8" + '"\n'
    )
    new = shipyard(home, str(project), "--scanner", "secrets")
    assert new.returncode == 1
    assert "app/more.py:1  secret/github-pat" in new.stdout


def test_strict_fails_on_what_could_not_be_audited(project: Path, tmp_path: Path) -> None:
    args = (str(project), "--scanner", "dependencies", "--osv-db", str(OSV_PYPI), "--fail-on",
            "critical")  # fmt: skip
    assert shipyard(tmp_path / "home", *args).returncode == 0
    strict = shipyard(tmp_path / "home", *args, "--strict")
    assert strict.returncode == 1
    assert "flask was not audited: not pinned (>=2)" in strict.stdout


def test_the_project_file_sets_the_policy(project: Path, tmp_path: Path) -> None:
    (project / "shipyard.yaml").write_text(
        "app: shop\nservices:\n  web:\n    run: python -m app\n"
        "security:\n  fail_on: never\n  scanners: [secrets]\n  exclude: [app]\n",
        encoding="utf-8",
    )
    done = shipyard(tmp_path / "home", str(project))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith("secrets      ran         0 findings")


@pytest.mark.parametrize(
    ("args", "project_file", "message"),
    [
        (("--scanner", "sats"), None,
         "error: unknown scanner `sats`\n  hint: choose from: sast, semgrep, dependencies"),
        (("--osv-db", "/nonexistent/osv"), None,
         "error: the OSV database /nonexistent/osv does not exist\n"
         "  hint: run `shipyard scan db update`"),
        (("--history",), None, "error: --history needs a git repository, and "),
        (("--scanner", "dast"), None, "error: the dast scanner needs the URL of a running app"),
        (("--dast", "ftp://x"), None, "error: --dast needs an http:// or https:// URL, not `ftp://x`"),
        ((), "app: shop\nservices:\n  web:\n    run: x\nsecurity:\n  fail_on: hihg\n",
         "shipyard.yaml:6:12: security.fail_on: unknown level `hihg`\n"
         "  hint: did you mean `high`?"),
        ((), "app: shop\nservices:\n  web:\n    run: x\nsecurity:\n  scanners: [secret]\n",
         "shipyard.yaml:6:14: security.scanners[0]: unknown scanner `secret`\n"
         "  hint: did you mean `secrets`?"),
    ],
)  # fmt: skip
def test_usage_and_configuration_errors_exit_2_with_a_hint(
    project: Path, tmp_path: Path, args: tuple[str, ...], project_file: str | None, message: str
) -> None:
    if project_file is not None:
        (project / "shipyard.yaml").write_text(project_file, encoding="utf-8")
    done = shipyard(tmp_path / "home", str(project), *args)
    assert done.returncode == 2, done.stdout
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unwritable_report_or_baseline_is_a_usage_error(project: Path, tmp_path: Path) -> None:
    not_a_directory = tmp_path / "plain-file"
    not_a_directory.write_text("")
    done = shipyard(tmp_path / "home", str(project), "--scanner", "secrets",
                    "-o", str(not_a_directory / "scan.sarif"))  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == (
        f"error: cannot write the report {not_a_directory / 'scan.sarif'}: File exists\n"
        "  hint: choose a directory you can write to\n"
    )
    baseline_file = str(not_a_directory / "b.json")
    baseline = shipyard(tmp_path / "home", str(project), "--scanner", "secrets",
                        "--baseline", baseline_file, "--update-baseline")  # fmt: skip
    assert baseline.returncode == 2
    assert baseline.stderr == (
        f"error: cannot read the baseline {not_a_directory / 'b.json'}: Not a directory\n"
        "  hint: check the path given by --baseline or `security.baseline`\n"
    )
    assert not list(tmp_path.glob("**/.scan.sarif.*"))


def test_a_missing_directory_to_scan_is_a_usage_error(tmp_path: Path) -> None:
    done = shipyard(tmp_path / "home", str(tmp_path / "nowhere"))
    assert done.returncode == 2
    assert done.stderr == (
        f"error: {tmp_path / 'nowhere'} is not a directory\n  hint: name the repository to scan\n"
    )


def test_help_lists_the_options(tmp_path: Path) -> None:
    done = shipyard(tmp_path / "home", "--help")
    assert done.returncode == 0
    assert done.stdout.startswith("Usage: shipyard scan [OPTIONS] [PATH]\n")
    assert "Exit codes: 0 passed, 1 findings fail the policy" in " ".join(done.stdout.split())
    database = shipyard(tmp_path / "home", "db", "update", "--help")
    assert database.stdout.startswith("Usage: shipyard scan db update [OPTIONS]\n")
    wrong = shipyard(tmp_path / "home", "--format", "xml")
    assert wrong.returncode == 2
    assert (
        "Invalid value for '--format': 'xml' is not one of 'text', 'json', 'sarif'." in wrong.stderr
    )
    for option in ("--format", "--output", "--fail-on", "--history", "--dast", "--osv-db",
                   "--update-baseline", "--sbom"):  # fmt: skip
        assert option in done.stdout


@pytest.fixture
def osv_mirror(tmp_path: Path) -> Iterator[tuple[str, dict[str, bytes]]]:
    """A loopback HTTP server serving OSV-style ``<ecosystem>/all.zip`` exports."""
    served: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = served.get(self.path)
            self.send_response(200 if body is not None else 500)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", served
    finally:
        server.shutdown()
        server.server_close()


def _zip(records: dict[str, dict[str, Any]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, record in records.items():
            archive.writestr(name, json.dumps(record))
    return buffer.getvalue()


def test_db_update_downloads_and_the_scan_then_uses_it(
    project: Path, tmp_path: Path, osv_mirror: tuple[str, dict[str, bytes]]
) -> None:
    url, served = osv_mirror
    record = {
        "id": "OSV-TEST-1",
        "aliases": ["CVE-2099-0001"],
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "aiohttp"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.8.0"}]}
                ],
            }
        ],
    }
    served["/PyPI/all.zip"] = _zip({"OSV-TEST-1.json": record})
    home = tmp_path / "home"
    env_args = ("db", "update", "--ecosystem", "PyPI")
    update = subprocess.run(
        [sys.executable, "-m", "shipyard", "scan", *env_args], capture_output=True, text=True,
        env={**os.environ, "SHIPYARD_HOME": str(home), "SHIPYARD_OSV_URL": url}, timeout=60,
        check=False,
    )  # fmt: skip
    assert update.returncode == 0, update.stderr
    database = home / "osv" / "PyPI.zip"
    assert (
        update.stdout
        == f"PyPI: 1 advisories ({len(served['/PyPI/all.zip'])} bytes) in {database}\n"
    )
    done = shipyard(home, str(project), "--scanner", "dependencies", "--format", "json")
    rules = {finding["rule"] for finding in json.loads(done.stdout)["findings"]}
    assert "OSV-TEST-1" in rules
    before = database.read_bytes()
    served["/PyPI/all.zip"] = b"this is not a zip"
    broken = subprocess.run(
        [sys.executable, "-m", "shipyard", "scan", *env_args], capture_output=True, text=True,
        env={**os.environ, "SHIPYARD_HOME": str(home), "SHIPYARD_OSV_URL": url}, timeout=60,
        check=False,
    )  # fmt: skip
    assert broken.returncode == 1
    assert broken.stderr == f"error: {url}/PyPI/all.zip is not a zip file: File is not a zip file\n"
    assert database.read_bytes() == before
    assert sorted(p.name for p in database.parent.iterdir()) == ["PyPI.zip"]
