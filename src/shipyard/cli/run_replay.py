"""The fast path of ``shipyard run``: replay a whole run when nothing it depends on changed.

It picks the workflow from a quick read of the files (as ``--list`` does), computes the run key
and asks the run cache; on a hit it prints the replayed run and exits, before the workflow
loader, the expression language or the scheduler are even imported. Anything unusual (several
workflows for the event, an unreadable file) simply takes the normal path.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shipyard.pipeline.run import repository, runcache
from shipyard.spec import discovery, workflow_summary


def _default_event(events: tuple[str, ...]) -> str:
    for event in ("push", "workflow_dispatch", "pull_request"):
        if event in events:
            return event
    return events[0] if events else "push"


def pick(root: Path, target: str | None, event: str | None) -> tuple[Path, str, str] | None:
    """(file, its text, the event) when exactly one workflow is meant; None otherwise."""
    if target is not None and Path(target).is_file():
        files = [Path(target).resolve()]
    else:
        files = discovery.find_workflow_files(root)
    found = []
    for file in files:
        text = file.read_text(encoding="utf-8", errors="replace")
        try:
            shown = file.relative_to(root).as_posix()
        except ValueError:
            shown = str(file)
        summary = workflow_summary.summarize(text, path=shown)
        if summary.problem is not None:
            return None
        if target is not None and not Path(target).is_file():
            names = {shown, file.name, file.stem, summary.name}
            if target not in names:
                continue
        found.append((file, text, summary))
    if len(found) != 1 and target is not None:
        return None
    if event is None:
        if not found:
            return None
        event = _default_event(found[0][2].events)
    matching = [item for item in found if event in item[2].events]
    if len(matching) != 1:
        return None
    file, text, _ = matching[0]
    return file, text, event


def key_for(
    root: Path,
    sha: str,
    ref: str,
    picked: tuple[Path, str, str],
    flags: Mapping[str, Any],
    secret_values: Mapping[str, str],
) -> runcache.RunKey | None:
    tree = repository.tree_of(root, sha)
    if tree is None:
        return None
    file, text, event = picked
    try:
        shown = file.relative_to(root).as_posix()  # the same workflow in a fresh clone hits too
    except ValueError:
        shown = str(file)
    shaping = {
        "event": event,
        "event_path": _read(flags.get("event_path")),
        "env_files": [_read(f) for f in flags.get("env_files", ())],
        "inputs": list(flags.get("inputs", ())),
        "vars": list(flags.get("variables", ())),
        "jobs": list(flags.get("jobs", ())),
        "matrix": list(flags.get("matrix", ())),
        "label_map": list(flags.get("label_map", ())),
        "ref": ref,
        "sha_dependent": sha if "sha" in text or "github.event" in text else "",
    }
    return runcache.compute(
        workflow_path=shown,
        workflow_text=text,
        tree=tree,
        flags=shaping,
        secret_values=secret_values,
    )


def _read(path: str | None) -> str | None:
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def show(report: Mapping[str, Any], *, as_json: bool) -> int:
    """Print a replayed run as a normal run prints, compactly; its exit code."""
    stream = sys.stderr if as_json else sys.stdout
    name = report.get("run_name") or report.get("workflow")
    print(f"Run {report['run_id']}: {name} ({report.get('event')})", file=stream)
    print(
        f"   replaying run {report.get('replayed_from')}: nothing it depends on changed",
        file=stream,
    )
    for job in report.get("jobs", []):
        print(f"[{job['name']}] ✓ job {job['conclusion']} (cached)", file=stream)
    print(f"✓ run {report['conclusion']} (replayed; logs in {report['run_dir']})", file=stream)
    if as_json:
        sys.stdout.write(report_json(report) + "\n")
        sys.stdout.flush()
    return 0 if report["conclusion"] == "success" else 1


def report_json(document: Any) -> str:
    """A run report for ``--json``: indented for a terminal, on one line for a program (as
    `gh --json` does); with ``indent``, json's encoder is the pure-Python one, several times
    slower."""
    return json.dumps(document, indent=2 if sys.stdout.isatty() else None)


def replay_and_show(key: runcache.RunKey, *, as_json: bool) -> int | None:
    """Replay the run recorded under ``key`` and print it; None when there is none."""
    report = runcache.replay(home(), key)
    return None if report is None else show(report, as_json=as_json)


def home() -> Path:
    configured = os.environ.get("SHIPYARD_HOME")
    if configured:
        return Path(configured)
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "shipyard"
