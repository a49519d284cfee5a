"""The security gate ``shipyard ship`` runs before any deploy: one call, one verdict.

It scans the release's source tree with the project's ``security:`` policy (every scanner but
DAST, which needs the app running), writes the SARIF report under
``$SHIPYARD_HOME/security/<app>/`` and says whether the deploy may go on. A gate that could not
scan fails closed.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from pathlib import Path

from shipyard.core.frozen import frozen
from shipyard.security import baseline, engine
from shipyard.spec import project as project_model
from shipyard.spec import project_loader, project_security
from shipyard.store import paths


@frozen
class GateResult:
    """The gate's verdict: whether the deploy may proceed, a one-line why, and the report."""

    passed: bool
    summary: str
    report_path: Path
    exit_code: int = 0


def run_gate(
    root: Path, project: project_model.Project | None, *, report_dir: Path | None = None
) -> GateResult:
    """Scan ``root`` with ``project``'s security settings; never raises for findings.

    ``project`` None: ``root``'s ``shipyard.yaml`` is read when there is one (an invalid file
    raises its ``SpecErrors``), else the defaults apply.
    """
    if project is None and (root / project_model.PROJECT_FILE).is_file():
        project = project_loader.load_project_file(root / project_model.PROJECT_FILE)
    settings = _without_dast(project.security if project is not None else None)
    plan = engine.plan_scan(root, settings, engine.Overrides())
    outcome = engine.run_scan(plan)
    app = project.app if project is not None else root.resolve().name
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    directory = report_dir or paths.home() / "security" / app
    report_path = directory / f"{stamp}.sarif"
    baseline.write_atomically(report_path, json.dumps(outcome.sarif(), indent=2) + "\n", "report")
    decision = outcome.decision
    return GateResult(decision.passed, decision.summary(), report_path, decision.exit_code)


def _without_dast(
    settings: project_security.SecuritySettings | None,
) -> project_security.SecuritySettings | None:
    if settings is None:
        return None
    kept = None if settings.scanners is None else tuple(n for n in settings.scanners if n != "dast")
    return dataclasses.replace(settings, dast=None, scanners=kept or None)
