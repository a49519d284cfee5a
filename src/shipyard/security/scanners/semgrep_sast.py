"""SAST with semgrep, when it is installed: Shipyard's bundled local rules, never the network.

semgrep pins many libraries of its own, so it is never a Shipyard dependency: it runs as an
executable from its own environment (``pipx install semgrep``), found on PATH or named by
``--semgrep``. It runs with ``--metrics=off``, no version check and only the rules below (Python,
JavaScript, shell and Dockerfiles), written to a temporary file — no registry rules are fetched.
When no semgrep is found the scanner reports that it did not run; it never fails the gate for it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from shipyard.security import findings, interface

TIMEOUT = 600.0
RULES_YAML = """\
rules:
  - id: python-subprocess-shell
    languages: [python]
    severity: ERROR
    message: A subprocess started through the shell with a non-literal command can be injected.
    pattern-either:
      - pattern: subprocess.$F(..., shell=True, ...)
      - pattern: os.system($X)
  - id: python-eval
    languages: [python]
    severity: WARNING
    message: eval or exec of a non-literal string runs whatever it contains.
    pattern-either:
      - pattern: eval($X)
      - pattern: exec($X)
  - id: python-yaml-load
    languages: [python]
    severity: WARNING
    message: yaml.load without a safe loader can construct arbitrary objects.
    patterns:
      - pattern: yaml.load(...)
      - pattern-not: yaml.load(..., Loader=yaml.SafeLoader, ...)
      - pattern-not: yaml.load(..., Loader=yaml.CSafeLoader, ...)
  - id: javascript-eval
    languages: [javascript, typescript]
    severity: WARNING
    message: eval or new Function of a non-literal string runs whatever it contains.
    pattern-either:
      - pattern: eval($X)
      - pattern: new Function(...)
  - id: javascript-inner-html
    languages: [javascript, typescript]
    severity: WARNING
    message: Assigning to innerHTML renders markup; untrusted text becomes script (XSS).
    pattern: $EL.innerHTML = $X
  - id: shell-curl-pipe-sh
    languages: [bash]
    severity: ERROR
    message: Piping a download into a shell runs whatever the server sends.
    pattern-either:
      - pattern: curl ... | sh
      - pattern: curl ... | bash
      - pattern: wget ... | sh
      - pattern: wget ... | bash
  - id: dockerfile-curl-pipe-sh
    languages: [dockerfile]
    severity: ERROR
    message: Piping a download into a shell during the build runs whatever the server sends.
    pattern-either:
      - pattern: RUN curl ... | sh
      - pattern: RUN curl ... | bash
"""
_SEVERITIES = {
    "ERROR": findings.Severity.HIGH,
    "WARNING": findings.Severity.MEDIUM,
    "INFO": findings.Severity.LOW,
}


def find_semgrep(configured: str | None) -> str | None:
    """The semgrep executable: the configured one, else the first on PATH."""
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("semgrep")


class SemgrepScanner:
    """semgrep with Shipyard's local rules, when an executable is available."""

    name = "semgrep"

    def scan(self, context: interface.ScanContext) -> interface.ScanResult:
        started = time.perf_counter()
        executable = find_semgrep(context.semgrep)
        if executable is None:
            return interface.ScanResult(
                scanner=self.name,
                tool="semgrep",
                version="",
                rules={},
                findings=(),
                ran=False,
                notices=[
                    interface.Notice(
                        "semgrep is not installed, so its rules did not run; install it in its own "
                        "environment (`pipx install semgrep`) to add them"
                    )
                ],
            )
        with tempfile.TemporaryDirectory(prefix="shipyard-semgrep-") as scratch:
            rules_file = Path(scratch) / "rules.yml"
            rules_file.write_text(RULES_YAML, encoding="utf-8")
            data = _run(executable, rules_file, context)
        return _result(data, started, _version(executable), context.root)


def _run(executable: str, rules_file: Path, context: interface.ScanContext) -> dict[str, Any]:
    argv = [
        executable, "scan", "--config", str(rules_file), "--json", "--metrics=off",
        "--disable-version-check", "--quiet", "--no-git-ignore",
        *[f"--exclude={name}" for name in context.excludes], str(context.root),
    ]  # fmt: skip
    environment = {
        **os.environ,
        "SEMGREP_ENABLE_VERSION_CHECK": "0",
        "SEMGREP_SEND_METRICS": "off",
    }
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=TIMEOUT, env=environment, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise interface.ScanError(f"semgrep could not run: {error}") from error
    if done.returncode not in (0, 1):
        tail = " ".join(done.stderr.strip().splitlines()[-3:])
        raise interface.ScanError(f"semgrep exited with status {done.returncode}: {tail}")
    try:
        data: dict[str, Any] = json.loads(done.stdout)
    except ValueError as error:
        raise interface.ScanError("semgrep printed something that is not JSON") from error
    return data


def _version(executable: str) -> str:
    try:
        done = subprocess.run(
            [executable, "--version", "--disable-version-check"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip().splitlines()[0] if done.stdout.strip() else ""


def _result(data: dict[str, Any], started: float, version: str, root: Path) -> interface.ScanResult:
    rules: dict[str, findings.Rule] = {}
    found: list[findings.Finding] = []
    for item in data.get("results") or ():
        check = str(item.get("check_id", "")).rsplit(".", 1)[-1]
        extra = item.get("extra") or {}
        severity = _SEVERITIES.get(str(extra.get("severity", "")).upper(), findings.Severity.LOW)
        rule_id = f"semgrep/{check}"
        message = str(extra.get("message", check))
        rules.setdefault(
            rule_id,
            findings.Rule(
                rule_id,
                check,
                message,
                message + " Fix the code or justify it with a `nosemgrep` comment.",
                severity,
                tags=("security", "sast"),
            ),
        )
        path = _relative(str(item.get("path", "")), root)
        start = item.get("start") or {}
        lines = str(extra.get("lines", "")).strip()
        found.append(
            findings.Finding(
                rule_id=rule_id,
                scanner="semgrep",
                severity=severity,
                message=message,
                location=findings.Location(
                    path, int(start.get("line", 1)), int(start.get("col", 1)), snippet=lines or None
                ),
                fingerprint=findings.fingerprint("semgrep", rule_id, path, lines),
            )
        )
    notices = [
        interface.Notice(str(error.get("message", error))[:300], "warning")
        for error in (data.get("errors") or ())[:20]
    ]
    return interface.ScanResult(
        scanner="semgrep",
        tool="semgrep",
        version=version,
        rules=rules,
        findings=found,
        notices=notices,
        seconds=time.perf_counter() - started,
    )


def _relative(path: str, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path
