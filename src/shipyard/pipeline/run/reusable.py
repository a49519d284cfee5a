"""Job-level evaluation helpers, typed inputs, and calls of local reusable workflows.

A job ``uses: ./.github/workflows/x.yml`` runs that workflow's jobs as part of this run, with the
inputs and secrets the caller passes; the called workflow's ``on.workflow_call.outputs`` become
the calling job's outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard import expressions
from shipyard.core import errors, suggest
from shipyard.core.frozen import record
from shipyard.pipeline.plan import matrix as matrix_plan
from shipyard.pipeline.run import events, github_context, state
from shipyard.spec import workflow, workflow_loader

if TYPE_CHECKING:
    from shipyard.pipeline.run import engine

MAX_CALL_DEPTH = 4
"""GitHub allows four levels of nested reusable workflows."""


def job_level_github(run: state.RunState) -> dict[str, Any]:
    """The ``github`` context where no job has started yet (job ``if``, matrix, runs-on)."""
    paths = github_context.JobPaths(
        root=run.run_dir,
        workspace=run.run_dir,
        temp=run.run_dir,
        tool_cache=run.tool_cache,
        event_path=run.run_dir / "event.json",
    )
    return github_context.github_context(
        run.options,
        run_id=run.run_id,
        workflow_name=run.workflow.display_name,
        workflow_path=run.workflow.path,
        job_id="",
        paths=paths,
        event=run.event,
        token=run.token,
    )


def _evaluate(value: Any, contexts: Mapping[str, Any]) -> Any:
    if isinstance(value, str) and expressions.has_expression(value):
        return expressions.interpolate(value, contexts)
    return value


def truthy(value: bool | str, contexts: Mapping[str, Any]) -> bool:
    result = _evaluate(value, contexts)
    if isinstance(result, str):
        return result.lower() not in {"", "false", "0"}
    return bool(result)


def number(value: int | float | str, contexts: Mapping[str, Any]) -> float:
    result = _evaluate(value, contexts)
    try:
        return float(result)
    except (TypeError, ValueError):
        raise errors.UsageError(f"expected a number, the expression gave {result!r}") from None


def expand_matrix(spec: workflow.Job, contexts: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The job's matrix combinations, its expressions evaluated first."""
    assert spec.strategy is not None
    source = spec.source
    try:
        raw = spec.strategy.matrix
        if raw.expression is not None:
            whole = _evaluate(raw.expression, contexts)
            if not isinstance(whole, dict):
                raise matrix_plan.MatrixError(
                    "the matrix expression must give a mapping, it gave "
                    + expressions.to_json(whole)
                )
            include = whole.get("include", [])
            exclude = whole.get("exclude", [])
            dimensions = {k: v for k, v in whole.items() if k not in {"include", "exclude"}}
        else:
            dimensions = {name: _evaluate(v, contexts) for name, v in raw.dimensions.items()}
            include = _evaluate(raw.include, contexts)
            exclude = _evaluate(raw.exclude, contexts)
        return matrix_plan.expand(dimensions, include or [], exclude or [])
    except (matrix_plan.MatrixError, expressions.ExpressionError) as error:
        raise errors.SpecError(
            error.message,
            location=source.where("strategy.matrix"),
            key_path=source.path_of("strategy.matrix"),
            hint=error.hint,
        ) from error


def typed_inputs(
    specs: Mapping[str, workflow.InputSpec], given: Mapping[str, Any], *, where: str
) -> dict[str, Any]:
    """Inputs checked against their declarations: types, choices, required, defaults."""
    unknown = [name for name in given if name not in specs]
    if unknown:
        raise errors.UsageError(
            f"{where}: unknown input `{unknown[0]}`",
            hint=suggest.did_you_mean(unknown[0], specs, noun="input"),
        )
    result: dict[str, Any] = {}
    for name, spec in specs.items():
        if name in given:
            result[name] = _coerce(spec, given[name], where)
        elif spec.default is not None:
            result[name] = _coerce(spec, spec.default, where)
        elif spec.required:
            raise errors.UsageError(
                f"{where}: input `{name}` is required",
                hint=f"pass it with --input {name}=VALUE",
            )
        else:
            result[name] = False if spec.type == "boolean" else ("" if spec.type != "number" else 0)
    return result


def _coerce(spec: workflow.InputSpec, value: Any, where: str) -> Any:
    text = expressions.to_string(value) if not isinstance(value, str) else value
    if spec.type == "boolean":
        if isinstance(value, bool):
            return value
        if text.lower() in {"true", "false"}:
            return text.lower() == "true"
        raise errors.UsageError(f"{where}: input `{spec.name}` must be true or false, got `{text}`")
    if spec.type == "number":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        try:
            parsed = float(text)
        except ValueError:
            raise errors.UsageError(
                f"{where}: input `{spec.name}` must be a number, got `{text}`"
            ) from None
        return int(parsed) if parsed.is_integer() else parsed
    if spec.type == "choice" and spec.options and text not in spec.options:
        raise errors.UsageError(
            f"{where}: input `{spec.name}` must be one of "
            + ", ".join(f"`{o}`" for o in spec.options)
            + f", got `{text}`"
        )
    return text


@record
class CallResult:
    result: events.Conclusion
    outputs: dict[str, str] = field(default_factory=dict)


async def run_called_workflow(
    run: state.RunState,
    spec: workflow.Job,
    contexts: Mapping[str, Any],
    engine_class: Callable[[state.RunState], engine.Engine],
) -> CallResult:
    """Run the reusable workflow a job calls, as part of this run."""
    assert spec.uses is not None
    location = spec.source.where("uses")
    if not spec.uses.startswith("./"):
        raise errors.ActionNotAvailable(
            f"reusable workflow `{spec.uses}` is not in this repository",
            location=location,
            key_path=spec.source.path_of("uses"),
            hint="Shipyard runs local reusable workflows (`uses: ./.github/workflows/x.yml`)",
        )
    if run.job_prefix.count(" / ") >= MAX_CALL_DEPTH:
        raise errors.ExecutionError(
            f"reusable workflows nest deeper than {MAX_CALL_DEPTH} levels", location=location
        )
    path = run.options.repository.root / spec.uses
    called = _load(path, spec)
    call = called.on.workflow_call
    if call is None:
        raise errors.SpecError(
            f"{spec.uses} is not a reusable workflow: it has no `on.workflow_call`",
            location=location,
            key_path=spec.source.path_of("uses"),
            hint="add `on: workflow_call` to the called workflow",
        )
    given = {name: _evaluate(value, contexts) for name, value in spec.with_.items()}
    inputs = typed_inputs(call.inputs, given, where=f"{spec.source.path_of('with')}")
    secrets = _passed_secrets(run, spec, contexts, call)
    nested = replace(
        run,
        workflow=called,
        inputs=inputs,
        secrets=secrets,
        job_prefix=f"{run.job_prefix}{spec.name or spec.id} / ",
        cancelled=run.cancelled,
    )
    nested.used_keys = run.used_keys
    outcome = await engine_class(nested).execute()
    jobs_context = {
        job_id: {"result": result.result, "outputs": result.outputs}
        for job_id, result in outcome.jobs.items()
    }
    outputs = {}
    for name, output in call.outputs.items():
        value = _evaluate(output.value, {**contexts, "jobs": jobs_context, "inputs": inputs})
        outputs[name] = expressions.to_string(value)
    return CallResult(outcome.conclusion, outputs)


def _load(path: Path, spec: workflow.Job) -> workflow.Workflow:
    if not path.is_file():
        raise errors.SpecError(
            f"reusable workflow {spec.uses} does not exist",
            location=spec.source.where("uses"),
            key_path=spec.source.path_of("uses"),
            hint="the path is relative to the repository root, e.g. ./.github/workflows/build.yml",
        )
    display = (spec.uses or "").removeprefix("./")
    return workflow_loader.load_workflow_file(path, display_path=display)


def _passed_secrets(
    run: state.RunState,
    spec: workflow.Job,
    contexts: Mapping[str, Any],
    call: workflow.WorkflowCall,
) -> dict[str, str]:
    if spec.secrets == "inherit":
        return dict(run.secrets)
    passed = {"GITHUB_TOKEN": run.token}
    for name, value in (spec.secrets or {}).items():
        passed[name] = expressions.to_string(_evaluate(value, contexts))
    for name, declared in call.secrets.items():
        if declared.required and name not in passed:
            raise errors.SpecError(
                f"the called workflow requires secret `{name}`",
                location=spec.source.where("secrets"),
                key_path=spec.source.path_of("secrets"),
                hint=f"pass it: `secrets: {{ {name}: ${{{{ secrets.{name} }}}} }}` or "
                "`secrets: inherit`",
            )
    return passed
