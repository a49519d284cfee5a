"""``shipyard ship [--to ENV]``: from the commit you are on to a running environment, in one go.

The stages, each shown as one line as it ends, stop at the first failure:

1. **ci**: the repository's workflows for a push (``shipyard run``, with its job cache);
2. **security**: the security gate (``security_gate`` below, the one place it is called);
3. **release**: the commit built once as an immutable release;
4. **deploy** to each environment of ``shipyard.yaml`` in order, up to ``--to`` (default: the
   first), each checked through the router before the next, honouring its protection (a deploy
   waiting for approval or paused at a canary step ends the ship there, saying what to run).

The summary names the commit, the release, each environment's URL and every stage's duration.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from shipyard.core import errors

JOB_LINE = re.compile(r"^\[(?P<job>.+?)\] (?P<mark>\S+) job (?P<outcome>\w+) \((?P<took>[^)]*)\)")
CHECK_REQUESTS = 10


class ShipFailed(errors.ExecutionError):
    """A stage of ``shipyard ship`` failed; what ran before it is untouched."""

    exit_code = 1


@dataclass
class Stage:
    name: str
    seconds: float
    outcome: str
    detail: str = ""


@dataclass
class Shipment:
    commit: str = ""
    branch: str = ""
    release: str = ""
    app: str = ""
    stages: list[Stage] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)


def security_gate(repository: Path, commit: str) -> tuple[bool, str]:
    """The security gate of a ship: (passed, what it says).

    This is the single call site of the security checks in ``ship``: the project's ``security:``
    policy over the repository (docs/security.md); the SARIF report is named in what it says."""
    from shipyard.security import gate

    result = gate.run_gate(repository, None)
    return result.passed, f"{result.summary} (report: {result.report_path})"


def _stage(shipment: Shipment, name: str, action: Callable[[], str]) -> None:
    started = time.monotonic()
    click.echo(f"▸ {name}")
    try:
        detail = action()
    except errors.ShipyardError:
        took = time.monotonic() - started
        shipment.stages.append(Stage(name, took, "failed"))
        click.echo(f"✗ {name} failed ({took:.1f}s)")
        _summary(shipment)
        raise
    took = time.monotonic() - started
    waiting = detail.startswith(("waiting", "paused"))
    shipment.stages.append(Stage(name, took, "waiting" if waiting else "ok", detail))
    mark = "⏸" if waiting else "✓"
    click.echo(f"{mark} {name} ({took:.1f}s){': ' + detail if detail else ''}")


def run_ci(repository: Path) -> str:
    """The workflows for a push, with the normal runner; a line per job as it ends."""
    with tempfile.TemporaryDirectory(prefix="shipyard-ship-") as scratch:
        report_path = Path(scratch) / "report.json"
        with report_path.open("w") as report_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "shipyard", "run", "--json", "-C", str(repository)],
                stdout=report_file,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                text=True,
                errors="replace",
            )
            assert process.stderr is not None
            for line in process.stderr:
                found = JOB_LINE.match(line.strip())
                if found:
                    mark = "✓" if found["outcome"] in ("success", "skipped") else "✗"
                    click.echo(f"    {mark} {found['job']} ({found['took']})")
            status = process.wait()
        try:
            report = json.loads(report_path.read_text() or "{}")
        except ValueError:
            report = {}
    if status == 2 or not report:
        raise ShipFailed(
            "the CI workflow could not run",
            hint="run it alone to see why: `shipyard run`",
        )
    if report.get("conclusion") != "success":
        failed = [j["name"] for j in report.get("jobs", []) if j.get("conclusion") == "failure"]
        raise ShipFailed(
            f"CI failed: {', '.join(failed) or report.get('conclusion')}; nothing was deployed",
            hint=f"its logs are in {report.get('run_dir')}; rerun with `shipyard run`",
        )
    jobs = report.get("jobs", [])
    return f"{len(jobs)} jobs passed"


def check_environment(port: int, health: str) -> str:
    """Requests through the router to the health path: every one must answer 200."""
    import httpx

    url = f"http://127.0.0.1:{port}{health}"
    with httpx.Client(timeout=10) as http:
        for _ in range(CHECK_REQUESTS):
            try:
                answer = http.get(url)
            except httpx.HTTPError as error:
                raise ShipFailed(f"{url} did not answer: {error}") from None
            if answer.status_code != 200:
                raise ShipFailed(f"{url} answered {answer.status_code}: {answer.text[:200]}")
    return f"{CHECK_REQUESTS}/{CHECK_REQUESTS} checks of {health} answered 200"


@click.command("ship")
@click.option("--to", "target", help="The last environment to deploy to (default: the first).")
@click.option("--skip-ci", is_flag=True, help="Do not run the CI workflow (it passed already).")
def ship(target: str | None, skip_ci: bool) -> None:
    """Test, build and deploy the commit you are on, environment after environment."""
    from shipyard.cli import client, deploy_command
    from shipyard.deploy import releases

    source = releases.resolve_source(Path("."), "HEAD")
    project = source.project
    order = list(project.environments)
    if not order:
        raise errors.UsageError(
            "shipyard.yaml declares no environment to ship to",
            hint="add one under `environments:` (see docs/project.md)",
        )
    if target is not None and target not in order:
        from shipyard.core import suggest

        raise errors.UsageError(
            f"--to {target}: no such environment in shipyard.yaml",
            hint=suggest.did_you_mean(target, order, noun="environment"),
        )
    chosen = order[: order.index(target) + 1] if target else order[:1]
    shipment = Shipment(commit=source.commit, app=project.app)
    shipment.branch = deploy_command.branch_of(source.repository, "HEAD", source.commit)
    click.echo(
        f"shipping {project.app} at {source.commit[:12]}"
        f"{f' ({shipment.branch})' if shipment.branch else ''} to {' → '.join(chosen)}"
    )
    if not skip_ci:
        _stage(shipment, "ci", lambda: run_ci(source.repository))

    def gate() -> str:
        passed, said = security_gate(source.repository, source.commit)
        if not passed:
            raise ShipFailed(f"the security gate failed: {said}; nothing was deployed")
        return said

    _stage(shipment, "security", gate)

    def build() -> str:
        _, shipment.release, _ = deploy_command.build_release("HEAD", quiet=True)
        return f"release {shipment.release}"

    _stage(shipment, "release", build)
    http = [s.http.health for s in project.http_services() if s.http is not None]
    with client.connect() as server:
        for name in chosen:
            stopped = _ship_to(server, shipment, name, http[0] if http else None)
            port = project.environments[name].port
            if port is not None:
                shipment.urls[name] = f"http://127.0.0.1:{port}/"
            if stopped:
                break
    _summary(shipment)


def _ship_to(server: Any, shipment: Shipment, name: str, health: str | None) -> bool:
    """Deploy to one environment and check it; True when the ship stops there (waiting)."""
    from shipyard.cli import deploy_command

    outcome: dict[str, Any] = {}

    def deploy() -> str:
        body = {
            "app": shipment.app,
            "release": shipment.release,
            "actor": deploy_command.actor(),
            "branch": shipment.branch,
        }
        answer = server.call("POST", f"/api/v1/environments/{name}/deploys", body=body)

        def echo(line: str) -> None:
            click.echo(f"    {line.strip()}")

        outcome.update(deploy_command.follow(server, answer["deploy"], echo=_quiet(echo)))
        status = outcome["status"]
        if status == "waiting-approval":
            return f"waiting for approval: `shipyard approve {outcome['id']}`; the ship stops here"
        if status == "paused":
            return f"paused at {outcome['weight']}%: `shipyard promote {name}`; the ship stops here"
        return f"deploy {outcome['id']} ({outcome['strategy']})"

    _stage(shipment, f"deploy {name}", deploy)
    if outcome.get("status") != "succeeded":
        return True
    found = server.call("GET", f"/api/v1/environments/{name}")
    if health and found.get("port"):
        _stage(shipment, f"check {name}", lambda: check_environment(found["port"], health))
    return False


def _quiet(echo: Callable[[str], None]) -> Callable[[str], None]:
    """Keep the traffic moves and the outcome of a deploy's progress, not every step."""

    def show(line: str) -> None:
        text = line.strip()
        keep = ("traffic on", "paused", "waiting", "succeeded", "failed", "aborted")
        if any(word in text for word in keep) and not text.startswith("deploy "):
            echo(text.split("  ", 1)[-1])
        elif text.startswith(("paused", "waiting")):
            echo(text)

    return show


def _summary(shipment: Shipment) -> None:
    total = sum(stage.seconds for stage in shipment.stages)
    click.echo("")
    click.echo(
        f"commit:      {shipment.commit[:12]}{f' ({shipment.branch})' if shipment.branch else ''}"
    )
    if shipment.release:
        click.echo(f"release:     {shipment.release}")
    for stage in shipment.stages:
        click.echo(f"  {stage.name:<20} {stage.outcome:<7} {stage.seconds:6.1f}s")
    click.echo(f"  {'total':<20} {'':<7} {total:6.1f}s")
    for name, url in shipment.urls.items():
        click.echo(f"{name + ':':<12} {url}")
