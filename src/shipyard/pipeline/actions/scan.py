"""Built-in ``shipyard/scan`` (v1): the security gate as a workflow step.

Runs ``shipyard scan`` on the workspace (or ``path``) in a child process through the runner, so
the scan's output lands in the step log, is masked like every other line, and is cancelled with
the job. The SARIF report goes to ``output`` (default ``$RUNNER_TEMP/shipyard-scan.sarif``) and is
named by the ``sarif-file`` output, ready for an upload step. The step fails when the policy
fails (exit 1) or a scanner fails (exit 3), unless ``fail: false``.

Inputs: ``path``, ``fail-on``, ``strict``, ``scanners`` (one per line or comma-separated),
``history``, ``osv-db``, ``baseline``, ``dast``, ``sbom``, ``output``, ``fail``.
Outputs: ``sarif-file``, ``exit-code``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from shipyard.pipeline.actions import _inputs, interface

_MEANINGS = {
    1: "findings at or above the threshold fail the security policy",
    2: "the scan's settings or command line are invalid",
    3: "a scanner failed to run",
}


class Scan:
    """``shipyard/scan``: ``shipyard scan`` over the workspace, as a gate."""

    names: tuple[str, ...] = ("shipyard/scan",)

    async def run(self, call: interface.ActionCall, io: interface.ActionIO) -> None:
        argv = command(call)
        io.log("Running " + " ".join(argv[2:]))
        status = await io.run_command(argv, cwd=call.workspace)
        output = Path(argv[argv.index("--output") + 1])
        io.set_output("exit-code", str(status))
        if output.exists():
            io.set_output("sarif-file", str(output))
        if status == 0:
            return
        meaning = _MEANINGS.get(status, f"shipyard scan exited with status {status}")
        if status == 1 and not _inputs.boolean(call, "fail", True):
            io.warning(f"security gate: {meaning} (fail: false, so the step passes)")
            return
        raise interface.ActionFailed(
            f"security gate: {meaning}",
            hint=f"see the findings above and the SARIF report {output}",
        )


def command(call: interface.ActionCall) -> list[str]:
    """The ``shipyard scan`` command line the action runs."""
    target = call.workspace / call.input("path", ".")
    output = Path(call.input("output", str(call.temp / "shipyard-scan.sarif")))
    if not output.is_absolute():
        output = call.workspace / output
    argv = [sys.executable, "-m", "shipyard", "scan", str(target), "--format", "sarif"]
    argv += ["--output", str(output)]
    for name, flag in (("fail-on", "--fail-on"), ("osv-db", "--osv-db"), ("baseline", "--baseline"),
                       ("dast", "--dast"), ("sbom", "--sbom")):  # fmt: skip
        value = call.input(name).strip()
        if value:
            argv += [flag, value]
    for scanner in re.split(r"[\s,]+", call.input("scanners").strip()):
        if scanner:
            argv += ["--scanner", scanner]
    if _inputs.boolean(call, "history", False):
        argv.append("--history")
    strict = call.input("strict").strip()
    if strict:
        argv.append("--strict" if _inputs.boolean(call, "strict", False) else "--no-strict")
    return argv
