"""``runs-on``: does a job's label set match this machine?

This machine answers to ``self-hosted``, ``linux``, its architecture (``x64``/``arm64``),
``local``, and every ``ubuntu-*`` label. ``--label-map LABEL=local`` adds a label; mapping to
another label makes the job's label stand for that one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from shipyard import expressions
from shipyard.core import errors
from shipyard.spec import workflow


def host_labels() -> set[str]:
    machine = os.uname().machine.lower()
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64"}.get(machine, machine)
    return {"self-hosted", "linux", arch, "local"}


def matches(label: str, label_map: Mapping[str, str]) -> bool:
    mapped = label_map.get(label, label)
    lowered = mapped.lower()
    return lowered in host_labels() or lowered.startswith("ubuntu-") or lowered == "ubuntu"


def job_labels(spec: workflow.Job, contexts: Mapping[str, Any]) -> list[str]:
    raw: Any = spec.runs_on
    if isinstance(raw, str) and expressions.has_expression(raw):
        raw = expressions.interpolate(raw, contexts)
    if isinstance(raw, dict):
        raw = raw.get("labels", [])
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list):
        result = []
        for item in raw:
            value = item
            if isinstance(item, str) and expressions.has_expression(item):
                value = expressions.interpolate(item, contexts)
            result.append(expressions.to_string(value))
        return result
    return []


def check(spec: workflow.Job, contexts: Mapping[str, Any], label_map: Mapping[str, str]) -> None:
    """Raise when some of the job's labels are not offered here."""
    try:
        wanted = job_labels(spec, contexts)
    except expressions.ExpressionError as error:
        raise errors.SpecError(
            error.message,
            location=spec.source.where("runs-on"),
            key_path=spec.source.path_of("runs-on"),
            hint=error.hint,
        ) from error
    missing = [label for label in wanted if not matches(label, label_map)]
    if missing:
        offered = ", ".join(sorted(host_labels())) + ", ubuntu-*"
        raise errors.UsageError(
            "no runner here matches runs-on " + ", ".join(f"`{m}`" for m in missing),
            location=spec.source.where("runs-on"),
            key_path=spec.source.path_of("runs-on"),
            hint=f"this machine offers {offered}; to run the job here anyway, pass "
            f"--label-map {missing[0]}=local",
        )
