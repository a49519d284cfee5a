"""The scheduler: jobs run in parallel as ``needs`` allows, bounded by ``--jobs``.

For each job it waits for the jobs it needs, evaluates its ``if`` with GitHub's job-level status
rules, checks ``runs-on`` against this machine's labels, expands its matrix (which may depend on
the outputs of the jobs it needs), and runs the combinations — ``max-parallel`` at a time, all
cancelled at the first failure when ``fail-fast`` holds. A job that calls a reusable workflow runs
that workflow's jobs as its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import field
from typing import Any

from shipyard import expressions
from shipyard.core import errors
from shipyard.core.frozen import record
from shipyard.pipeline.plan import graph, matrix
from shipyard.pipeline.run import (
    concurrency,
    events,
    job,
    jobcache,
    jobcache_key,
    labels,
    reusable,
    state,
)
from shipyard.spec import workflow


@record
class JobResult:
    """A job as ``needs.<id>`` sees it, all its matrix combinations together."""

    result: events.Conclusion
    outputs: dict[str, str] = field(default_factory=dict)


@record
class RunResult:
    conclusion: events.Conclusion
    jobs: dict[str, JobResult]


class Engine:
    """Runs the selected jobs of one workflow."""

    def __init__(self, run: state.RunState) -> None:
        self.run = run
        self.workflow = run.workflow
        self.results: dict[str, JobResult] = {}
        self.semaphore = asyncio.Semaphore(max(1, run.options.parallel_jobs))
        self.groups = concurrency.Groups()
        self.runners: set[job.JobRunner] = set()
        self.replayable = True
        """Every job ran (or was replayed) successfully and is in the job cache: the whole run
        can be replayed from it next time."""
        self._tasks: dict[str, asyncio.Task[JobResult]] = {}

    def cancel(self) -> None:
        """Cancel the run: running jobs stop their steps; jobs not started yet are cancelled."""
        self.run.cancelled = True
        for runner in list(self.runners):
            runner.cancel()

    async def execute(self) -> RunResult:
        selected = graph.select(self.workflow.jobs, self.run.options.jobs)
        for job_id in graph.order(self.workflow.jobs, selected):
            self._tasks[job_id] = asyncio.ensure_future(self._run_job(self.workflow.jobs[job_id]))
        try:
            await asyncio.gather(*self._tasks.values())
        except asyncio.CancelledError:
            self.cancel()
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)
            raise
        conclusion = self._conclusion()
        self.replayable = self.replayable and conclusion == "success"
        return RunResult(conclusion, dict(self.results))

    def _conclusion(self) -> events.Conclusion:
        conclusions = []
        for job_id, result in self.results.items():
            spec = self.workflow.jobs[job_id]
            if result.result == "failure" and spec.continue_on_error is True:
                continue
            conclusions.append(result.result)
        if "failure" in conclusions:
            return "failure"
        if "cancelled" in conclusions or self.run.cancelled:
            return "cancelled"
        return "success"

    # -- one job ----------------------------------------------------------------------------

    async def _run_job(self, spec: workflow.Job) -> JobResult:
        for need in spec.needs:
            if need in self._tasks:
                await asyncio.shield(self._tasks[need])
        needs = {
            need: {"result": self.results[need].result, "outputs": self.results[need].outputs}
            for need in spec.needs
            if need in self.results
        }
        result = await self._decide_and_run(spec, needs)
        self.results[spec.id] = result
        return result

    async def _decide_and_run(self, spec: workflow.Job, needs: dict[str, Any]) -> JobResult:
        contexts = self._job_contexts(needs)
        try:
            if not self._should_run(spec, contexts):
                conclusion: events.Conclusion = "cancelled" if self.run.cancelled else "skipped"
                self._report_unstarted(spec, conclusion)
                return JobResult(conclusion)
            if spec.uses is not None:
                return await self._run_reusable(spec, contexts)
            combinations = self._combinations(spec, contexts)
            labels.check(spec, contexts, self.run.options.label_map)
        except errors.ShipyardError as error:
            self._report_unstarted(spec, "failure", error)
            return JobResult("failure")
        return await self._run_matrix(spec, needs, combinations)

    def _job_contexts(self, needs: dict[str, Any]) -> dict[str, Any]:
        return {
            "github": reusable.job_level_github(self.run),
            "needs": needs,
            "vars": dict(self.run.options.variables),
            "inputs": dict(self.run.inputs),
            "secrets": self.run.secrets,
            "strategy": {},
            "matrix": {},
        }

    def _should_run(self, spec: workflow.Job, contexts: Mapping[str, Any]) -> bool:
        ancestors = graph.ancestors(self.workflow.jobs, spec.id)
        results = [self.results[a].result for a in ancestors if a in self.results]

        def status(name: str) -> bool:
            if name == "always":
                return True
            if name == "cancelled":
                return self.run.cancelled
            if name == "failure":
                return "failure" in results
            return all(r == "success" for r in results) and not self.run.cancelled

        hooks = expressions.EvaluationHooks(status=status)
        condition = spec.if_
        try:
            if condition is None or not condition.strip():
                return status("success")
            return expressions.evaluate_condition(condition, contexts, hooks=hooks)
        except expressions.ExpressionError as error:
            raise errors.SpecError(
                error.message,
                location=spec.source.where("if"),
                key_path=spec.source.path_of("if"),
                hint=error.hint,
            ) from error

    def _combinations(
        self, spec: workflow.Job, contexts: Mapping[str, Any]
    ) -> list[tuple[int, int, dict[str, Any] | None]]:
        """(index, total, combination) of each instance to run; ``--matrix`` filters them."""
        if spec.strategy is None:
            return [(0, 1, None)]
        every = reusable.expand_matrix(spec, contexts)
        combos: list[tuple[int, int, dict[str, Any] | None]] = [
            (index, len(every), combo) for index, combo in enumerate(every)
        ]
        wanted = self.run.options.matrix
        if wanted:
            combos = [
                (index, total, combo)
                for index, total, combo in combos
                if combo is not None
                and all(
                    expressions.to_string(combo.get(key)) == value for key, value in wanted.items()
                )
            ]
            if not combos:
                raise errors.UsageError(
                    f"no combination of job `{spec.id}`'s matrix matches --matrix "
                    + ", ".join(f"{k}={v}" for k, v in wanted.items()),
                    hint="run with --dry-run to see the combinations",
                )
        return combos

    def _report_unstarted(
        self,
        spec: workflow.Job,
        conclusion: events.Conclusion,
        error: errors.ShipyardError | None = None,
    ) -> None:
        ref = events.JobRef(
            key=self.run.unique_key(self.run.job_prefix + spec.id),
            id=spec.id,
            name=self.run.job_prefix + (spec.name or spec.id),
        )
        self.replayable = False
        broadcaster = self.run.broadcaster
        if error is not None:
            broadcaster.notify(events.JobStarted(job=ref))
            text = error.headline() + (f"\n  hint: {error.hint}" if error.hint else "")
            message = self.run.masker.mask(text)
            broadcaster.notify(
                events.AnnotationAdded(job=ref, step_index=None, level="error", message=message)
            )
            broadcaster.notify(
                events.LogLine(job=ref, step_index=None, text=f"Error: {message}", kind="runner")
            )
        broadcaster.notify(
            events.JobFinished(job=ref, conclusion=conclusion, outputs={}, duration=0.0)
        )

    # -- matrix -----------------------------------------------------------------------------

    async def _run_matrix(
        self,
        spec: workflow.Job,
        needs: dict[str, Any],
        combinations: list[tuple[int, int, dict[str, Any] | None]],
    ) -> JobResult:
        strategy = spec.strategy
        contexts = self._job_contexts(needs)
        fail_fast = True
        max_parallel = len(combinations)
        if strategy is not None:
            fail_fast = reusable.truthy(strategy.fail_fast, contexts)
            if strategy.max_parallel is not None:
                max_parallel = max(1, int(reusable.number(strategy.max_parallel, contexts)))
        limit = asyncio.Semaphore(max_parallel)
        siblings: list[job.JobRunner] = []
        outcomes: list[job.JobOutcome] = []
        tripped = False

        async def one(index: int, total: int, combo: dict[str, Any] | None) -> None:
            nonlocal tripped
            strategy_context = {
                "fail-fast": fail_fast,
                "job-index": index,
                "job-total": total,
                "max-parallel": max_parallel,
            }
            ref = self._job_ref(spec, combo, contexts)
            runner = job.JobRunner(
                self.run, spec, ref, matrix=combo, strategy=strategy_context, needs=needs
            )
            siblings.append(runner)
            async with limit, self.semaphore:
                if tripped or self.run.cancelled:
                    runner.cancelled = True
                self.runners.add(runner)
                try:
                    group = self._concurrency_group(spec, runner)
                    async with self.groups.hold(group, runner):
                        outcome = await self._execute_or_replay(spec, runner)
                finally:
                    self.runners.discard(runner)
            outcomes.append(outcome)
            if outcome.conclusion == "failure" and fail_fast and not tripped:
                tripped = True
                for sibling in siblings:
                    if sibling is not runner:
                        sibling.cancel()

        await asyncio.gather(*(one(*combination) for combination in combinations))
        return _aggregate(outcomes)

    async def _execute_or_replay(self, spec: workflow.Job, runner: job.JobRunner) -> job.JobOutcome:
        """Replay the job from the job cache when its inputs are unchanged, else run it."""
        key = self._cache_key(spec, runner)
        cache = self.run.job_cache
        if cache is not None and isinstance(key, jobcache_key.JobKey) and not runner.cancelled:
            entry = cache.lookup(key)
            if entry is not None:
                replayed = cache.replay(
                    entry,
                    runner.ref,
                    self.run.broadcaster,
                    log_dir=runner.log_dir,
                    artifact_store=self.run.artifact_store(),
                )
                if replayed is not None:
                    self.replayable = self.replayable and replayed.conclusion == "success"
                    return job.JobOutcome(replayed.conclusion, replayed.outputs)
            if self.run.options.explain_cache:
                self._note(runner, f"job cache miss: {cache.explain(key)}")
        elif self.run.options.explain_cache and isinstance(key, jobcache_key.Uncacheable):
            self._note(runner, f"not cached: {key.reason}")
        outcome = await runner.execute()
        self.replayable = self.replayable and isinstance(key, jobcache_key.JobKey)
        steps, annotations = self.run.recorder.take(runner.ref.key)
        recordable = isinstance(key, jobcache_key.JobKey) and outcome.conclusion == "success"
        if cache is not None and recordable:
            assert isinstance(key, jobcache_key.JobKey)
            self._record(cache, key, runner, outcome, (steps, annotations))
        return outcome

    def _cache_key(
        self, spec: workflow.Job, runner: job.JobRunner
    ) -> jobcache_key.JobKey | jobcache_key.Uncacheable | None:
        if self.run.job_cache is None:
            return None
        run = self.run
        return jobcache_key.compute(
            spec=self.workflow,
            job=spec,
            matrix=runner.matrix if spec.strategy is not None else None,
            strategy=runner.strategy,
            needs=runner.needs,
            root=run.options.repository.root,
            sha=run.options.repository.sha,
            values={
                "inputs": dict(run.inputs),
                "vars": dict(run.options.variables),
                "env": dict(run.options.env),
                "event_name": run.options.event_name,
                "event": run.event,
                "sha": run.options.repository.sha,
                "ref": run.options.repository.ref,
                "repository": run.options.repository.name,
            },
            secrets=run.secrets_without_token(),
            tools=run.tools,
        )

    def _record(
        self,
        cache: jobcache.JobCache,
        key: jobcache_key.JobKey,
        runner: job.JobRunner,
        outcome: job.JobOutcome,
        recorded: tuple[list[events.StepFinished], list[events.AnnotationAdded]],
    ) -> None:
        steps, annotations = recorded
        store = self.run.artifact_store()
        try:
            uploaded = [a for a in store.list() if a.name in runner.uploaded_artifacts]
            cache.record(
                key,
                run_id=self.run.run_id,
                conclusion=outcome.conclusion,
                outputs=outcome.outputs,
                summary=runner.summary,
                steps=steps,
                annotations=annotations,
                log_dir=runner.log_dir,
                uploaded=uploaded,
            )
        except (errors.ShipyardError, OSError) as error:
            self.replayable = False
            self._note(runner, f"could not record the job in the job cache: {error}")

    def _note(self, runner: job.JobRunner, text: str) -> None:
        self.run.broadcaster.notify(
            events.LogLine(job=runner.ref, step_index=None, text=text, kind="runner")
        )

    def _job_ref(
        self, spec: workflow.Job, combo: dict[str, Any] | None, contexts: dict[str, Any]
    ) -> events.JobRef:
        name = spec.name or spec.id
        if spec.name and expressions.has_expression(spec.name):
            try:
                rendered = expressions.interpolate(
                    spec.name, {**contexts, "matrix": combo or {}}, hooks=None
                )
                name = expressions.to_string(rendered)
            except expressions.ExpressionError:
                name = spec.name
        elif combo:
            name = f"{name} ({matrix.describe(combo)})"
        name = self.run.job_prefix + name
        return events.JobRef(key=self.run.unique_key(name), id=spec.id, name=name, matrix=combo)

    def _concurrency_group(self, spec: workflow.Job, runner: job.JobRunner) -> concurrency.Request:
        if spec.concurrency is None:
            return None
        contexts = {
            **self._job_contexts(runner.needs),
            "matrix": runner.matrix,
            "strategy": runner.strategy,
        }
        group = expressions.to_string(
            expressions.interpolate(spec.concurrency.group, contexts)
            if expressions.has_expression(spec.concurrency.group)
            else spec.concurrency.group
        )
        cancel = reusable.truthy(spec.concurrency.cancel_in_progress, contexts)
        return (group, cancel)

    async def _run_reusable(self, spec: workflow.Job, contexts: dict[str, Any]) -> JobResult:
        started = time.monotonic()
        called = await reusable.run_called_workflow(self.run, spec, contexts, Engine)
        del started
        return JobResult(called.result, called.outputs)


def _aggregate(outcomes: list[job.JobOutcome]) -> JobResult:
    conclusions = [outcome.conclusion for outcome in outcomes]
    result: events.Conclusion = "success"
    if "failure" in conclusions:
        result = "failure"
    elif "cancelled" in conclusions:
        result = "cancelled"
    outputs: dict[str, str] = {}
    for outcome in outcomes:
        outputs.update({k: v for k, v in outcome.outputs.items() if v != ""})
    return JobResult(result, outputs)
