"""``shipyard scan``: run the security scanners, write one report, exit by the policy.

``shipyard scan [PATH]`` scans a repository; ``shipyard scan db update`` refreshes the offline
OSV database. Exit codes: 0 passed, 1 findings fail the policy, 2 a usage or configuration error,
3 a scanner failed to run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from shipyard.core import errors

_FORMATS = ("text", "json", "sarif")
_LEVELS = ("critical", "high", "medium", "low", "info", "never")


class _ScanCommand(click.Command):
    """``scan [PATH] [options]``, or ``scan db update``: the first word decides."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        if args and args[0] == "db":
            # A bare command as the parent, so usage lines read `shipyard scan db ...`.
            outer = click.Context(click.Command(info_name), info_name=info_name, parent=parent)
            return database.make_context("db", args[1:], parent=outer, **extra)
        return super().make_context(info_name, args, parent=parent, **extra)


@click.command(
    "scan",
    cls=_ScanCommand,
    epilog="Refresh the offline OSV database with "
    "`shipyard scan db update`. Exit codes: 0 passed, 1 findings fail the policy, "
    "2 usage or configuration error, 3 a scanner failed.",
)
@click.argument("path", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(_FORMATS),
    default=None,
    help="Report format (default: text, or from --output's suffix).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report here (the text summary still goes to the terminal).",
)
@click.option("--fail-on", type=click.Choice(_LEVELS), help="Lowest severity that fails.")
@click.option(
    "--strict/--no-strict",
    default=None,
    help="Also fail on dependencies that could not be audited.",
)
@click.option(
    "--scanner",
    "scanners",
    multiple=True,
    metavar="NAME",
    help="Run only these scanners (repeat the flag).",
)
@click.option("--history", is_flag=True, help="Also scan every commit for secrets.")
@click.option("--dast", "dast_url", metavar="URL", help="Run the DAST baseline against this app.")
@click.option("--osv-db", type=click.Path(path_type=Path), help="OSV database: directory or zip.")
@click.option("--osv-api", metavar="URL", help="Ask this OSV API instead of a database.")
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Baseline file (default: .shipyard/security-baseline.json).",
)
@click.option("--update-baseline", is_flag=True, help="Record the current findings as accepted.")
@click.option(
    "--sbom", type=click.Path(dir_okay=False, path_type=Path), help="Write a CycloneDX SBOM here."
)
@click.option("--exclude", multiple=True, metavar="DIR", help="Skip a directory (repeatable).")
@click.option("--semgrep", metavar="EXECUTABLE", help="The semgrep to run (default: PATH).")
def scan(
    path: Path,
    output_format: str | None,
    output: Path | None,
    fail_on: str | None,
    strict: bool | None,
    scanners: tuple[str, ...],
    history: bool,
    dast_url: str | None,
    osv_db: Path | None,
    osv_api: str | None,
    baseline: Path | None,
    update_baseline: bool,
    sbom: Path | None,
    exclude: tuple[str, ...],
    semgrep: str | None,
) -> None:
    """Scan PATH (default: the current directory) and report by severity."""
    from shipyard.security import baseline as baselines
    from shipyard.security import engine, report

    settings = _project_settings(path)
    overrides = engine.Overrides(
        scanners=scanners or None, fail_on=fail_on, strict=strict, baseline=baseline,
        osv_db=osv_db, osv_api=osv_api, sbom=sbom, dast_url=dast_url, history=history,
        exclude=exclude, semgrep=semgrep,
    )  # fmt: skip
    plan = engine.plan_scan(path, settings, overrides)
    outcome = engine.run_scan(plan)
    if update_baseline:
        count = engine.update_baseline(outcome)
        click.echo(f"baseline {plan.baseline_path}: {count} findings recorded as accepted")
        return
    chosen = output_format or _format_of(output)
    text = report.as_text(outcome.results, outcome.decision, plan.policy)
    document: Any
    if chosen == "sarif":
        document = outcome.sarif()
    elif chosen == "json":
        document = report.as_json(outcome.results, outcome.decision, plan.policy)
    else:
        document = text
    rendered = document if isinstance(document, str) else json.dumps(document, indent=2) + "\n"
    if output is not None:
        baselines.write_atomically(output, rendered, "report")
        click.echo(text, nl=False)
        click.echo(f"report: {output}")
    else:
        click.echo(rendered, nl=False)
    sys.exit(outcome.decision.exit_code)


def _format_of(output: Path | None) -> str:
    if output is None:
        return "text"
    if output.suffix == ".sarif" or output.name.endswith(".sarif.json"):
        return "sarif"
    return "json" if output.suffix == ".json" else "text"


def _project_settings(root: Path) -> Any:
    from shipyard.spec import project, project_loader

    file = root / project.PROJECT_FILE
    if not file.is_file():
        return None
    return project_loader.load_project_file(file, display_path=str(file)).security


@click.group("db")
def database() -> None:
    """The offline OSV advisory database."""


@database.command("update")
@click.option(
    "--ecosystem",
    "ecosystems",
    multiple=True,
    type=click.Choice(("PyPI", "npm")),
    help="Ecosystems to fetch (default: PyPI and npm).",
)
@click.option(
    "--directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to keep it (default: $SHIPYARD_HOME/osv).",
)
def update(ecosystems: tuple[str, ...], directory: Path | None) -> None:
    """Download OSV's advisory exports (the only scan step that uses the network)."""
    from shipyard.security import osv_db, osv_update
    from shipyard.store import paths

    target = directory or osv_db.default_location(paths.home())
    try:
        done = osv_update.update(target, ecosystems or osv_update.ECOSYSTEMS)
    except OSError as error:
        raise errors.ExecutionError(
            f"cannot write the OSV database in {target}: {error}"
        ) from error
    for item in done:
        click.echo(
            f"{item.ecosystem}: {item.records} advisories ({item.size} bytes) in {item.path}"
        )
