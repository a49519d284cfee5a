"""One run of one workflow, start to finish: the run directory, the event loop and Ctrl-C.

``execute`` is what ``shipyard run`` calls. The first Ctrl-C (SIGINT) or a SIGTERM cancels the
run: running steps' process groups are stopped, ``if: always()`` steps and jobs still run, and the
run ends ``cancelled``. A second Ctrl-C stops those too.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import uvloop

from shipyard import expressions
from shipyard.core.frozen import record
from shipyard.pipeline.run import (
    engine,
    events,
    github_context,
    jobcache,
    logfiles,
    options,
    report,
    reusable,
    state,
    toolchain,
)
from shipyard.secrets import masking
from shipyard.spec import workflow


@record
class RunOutcome:
    conclusion: events.Conclusion
    run_dir: Path
    report: dict[str, Any]


def new_run_id() -> str:
    """Sortable and unique enough for one machine: milliseconds since the epoch plus noise."""
    return f"{int(time.time() * 1000)}{int.from_bytes(os.urandom(2), 'big') % 1000:03d}"


def prepare(
    spec: workflow.Workflow, run_options: options.RunOptions, run_id: str
) -> state.RunState:
    """Everything a run needs before its first job: typed inputs, masks, the run directory."""
    inputs = _inputs(spec, run_options)
    event = dict(run_options.event) or github_context.synthesize_event(
        run_options.event_name, run_options.repository, inputs, run_options.actor
    )
    if run_options.event_name == "workflow_dispatch":
        event.setdefault("inputs", {k: _as_text(v) for k, v in inputs.items()})
    token = "ghs_" + os.urandom(18).hex()
    all_secrets = {"GITHUB_TOKEN": token, **run_options.secrets}
    masker = masking.Masker()
    for value in all_secrets.values():
        masker.add(value)
    run_dir = run_options.home / "runs" / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "artifacts").mkdir(exist_ok=True)
    (run_dir / "event.json").write_text(json.dumps(event), encoding="utf-8")
    cache = jobcache.JobCache(run_options.home / "cache") if run_options.use_cache else None
    return state.RunState(
        job_cache=cache,
        tools=toolchain.digest() if cache is not None else "",
        options=run_options,
        run_id=run_id,
        run_dir=run_dir,
        workflow=spec,
        broadcaster=events.Broadcaster(),
        masker=masker,
        token=token,
        event=event,
        inputs=inputs,
        secrets=all_secrets,
    )


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _inputs(spec: workflow.Workflow, run_options: options.RunOptions) -> dict[str, Any]:
    if run_options.event_name == "workflow_dispatch":
        declared = spec.on.dispatch_inputs
    elif spec.on.workflow_call is not None and run_options.event_name == "workflow_call":
        declared = spec.on.workflow_call.inputs
    else:
        declared = spec.on.dispatch_inputs if run_options.inputs else {}
    return reusable.typed_inputs(declared, run_options.inputs, where="--input")


def _run_name(run: state.RunState) -> str:
    """``run-name`` evaluated with ``github``, ``inputs`` and ``vars``, else the name."""
    template = run.workflow.run_name
    if not template:
        return run.workflow.display_name
    contexts = {
        "github": reusable.job_level_github(run),
        "inputs": dict(run.inputs),
        "vars": dict(run.options.variables),
    }
    try:
        return expressions.to_string(expressions.interpolate(template, contexts))
    except expressions.ExpressionError:
        return template


def execute(
    spec: workflow.Workflow,
    run_options: options.RunOptions,
    observers: Sequence[events.Observer] = (),
) -> RunOutcome:
    """Run the workflow on this machine and return how it went.

    The event loop is uvloop's: a step is a few short callbacks (a pipe, a pidfd, a timer) and
    uvloop runs each for a fraction of what asyncio's own loop costs (about 8% of a run of
    trivial steps). Step processes are still started and reaped by ``process``, not the loop.
    """
    run = prepare(spec, run_options, new_run_id())
    return uvloop.run(_main(run, observers))


async def _main(run: state.RunState, observers: Sequence[events.Observer]) -> RunOutcome:
    collector = report.RunReport()
    files = logfiles.LogFiles(run.run_dir)
    everyone: list[events.Observer] = [collector, files, run.recorder, *observers]
    for observer in everyone:
        run.broadcaster.subscribe(observer)
    started = time.monotonic()
    run.broadcaster.notify(
        events.RunStarted(
            run_id=run.run_id,
            workflow=run.workflow.display_name,
            workflow_path=run.workflow.path,
            event_name=run.options.event_name,
            run_dir=str(run.run_dir),
            run_name=_run_name(run),
        )
    )
    runner = engine.Engine(run)
    main_task = asyncio.current_task()
    presses = 0

    def interrupted() -> None:
        nonlocal presses
        presses += 1
        if presses == 1:
            run.broadcaster.notify(
                events.LogLine(
                    job=events.JobRef(key="", id="", name=""),
                    step_index=None,
                    text="Cancelling the run (press Ctrl-C again to stop at once)...",
                    kind="runner",
                )
            )
            runner.cancel()
        elif main_task is not None:
            main_task.cancel()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, interrupted)
    try:
        result = await runner.execute()
        conclusion = result.conclusion
    except asyncio.CancelledError:
        conclusion = "cancelled"
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    collector.data["replayable"] = runner.replayable and conclusion == "success"
    run.broadcaster.notify(
        events.RunFinished(conclusion=conclusion, duration=time.monotonic() - started)
    )
    if run.job_cache is not None:
        run.job_cache.enforce_cap()
    collector.data["artifacts"] = [
        {
            "name": artifact.name,
            "id": artifact.id,
            "digest": artifact.digest,
            "size": artifact.size,
            "files": len(artifact.files),
        }
        for artifact in run.artifact_store().list()
    ]
    collector.write(run.run_dir / "report.json")
    return RunOutcome(conclusion, run.run_dir, collector.as_dict())
