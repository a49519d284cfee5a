"""The rollout executor: applies a strategy's steps to an environment, and undoes them on failure.

It knows only the ``Target`` protocol (the server implements it with the supervisor and the
router) and the pure strategies, so the order of things lives here once: the release command
before any traffic moves; a health gate on every scale-up; traffic recorded before it moves; a
failure, an abort or a failed analysis reverts to the old release, which keeps serving. Progress
goes to an observer as events; nothing here prints or touches the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from shipyard.core import errors
from shipyard.core.frozen import frozen
from shipyard.deploy.strategies import planning, steps
from shipyard.spec import deploy_settings


class RolloutFailed(errors.ExecutionError):
    """A rollout stopped: a health gate, the release command, an analysis or an abort."""

    exit_code = 1


class Target(Protocol):
    """What the executor acts on: one environment, moving from one release to another."""

    def observe(self) -> steps.Observed:
        """What runs now (instances of the old and new release per service)."""

    async def run_release_command(self, command: str) -> None:
        """Run it in the new release's directory; raise ``RolloutFailed`` with its log."""

    async def scale(self, release: str, service: str, count: int) -> None:
        """Up with the health gate (raise ``RolloutFailed`` with the log's end), or down after
        draining the instances that leave."""

    async def route(self, weight: int) -> None:
        """Send ``weight`` percent of the traffic to the new release."""

    async def keep_warm(self, release: str, seconds: float) -> None:
        """Leave ``release`` running without traffic for ``seconds``, then stop it."""


Analysis = Callable[[int], Awaitable[str | None]]
"""The hook for automatic canary analysis: called during pauses with the current weight, it
returns a reason to abort (None: all is well). Later issues plug error rate and latency in."""

Observer = Callable[[str, str, Mapping[str, Any]], None]
"""``(kind, summary, details)`` for each event: ``deploy.step``, ``deploy.traffic``, ..."""


class Control:
    """The buttons a person presses during a rollout: promote and abort."""

    def __init__(self) -> None:
        self.promoted = asyncio.Event()
        self.aborted: str | None = None
        self._abort = asyncio.Event()

    def promote(self) -> None:
        self.promoted.set()

    def abort(self, reason: str) -> None:
        self.aborted = reason
        self._abort.set()

    async def wait(self, seconds: float | None) -> str:
        """Wait for a promote (or the time to pass): ``promoted``, ``elapsed`` or ``aborted``."""
        promote = asyncio.ensure_future(self.promoted.wait())
        abort = asyncio.ensure_future(self._abort.wait())
        try:
            done, _ = await asyncio.wait(
                {promote, abort}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            promote.cancel()
            abort.cancel()
        self.promoted.clear()
        if abort in done:
            return "aborted"
        return "promoted" if promote in done else "elapsed"


@frozen
class Outcome:
    status: str
    """``succeeded``, ``failed`` or ``aborted``."""
    reason: str = ""


class Rollout:
    """One rollout of one environment."""

    def __init__(
        self,
        target: Target,
        settings: deploy_settings.DeploySettings,
        *,
        observer: Observer,
        control: Control | None = None,
        analysis: Analysis | None = None,
        on_pause: Callable[[bool], None] = lambda paused: None,
    ) -> None:
        self.target = target
        self.settings = settings
        self.observer = observer
        self.control = control or Control()
        self.analysis = analysis
        self.on_pause = on_pause

    def plan(self) -> tuple[steps.Step, ...]:
        return planning.plan(self.target.observe(), self.settings)

    async def run(self) -> Outcome:
        """Apply the plan; on failure or abort, revert and say why (never raises for those)."""
        before = self.target.observe()
        old_wanted = {s.name: s.old for s in before.services if s.old}
        old_wanted.update({name: count for name, count in before.old_only.items() if count})
        plan = planning.plan(before, self.settings)
        try:
            for index, step in enumerate(plan, 1):
                if self.control.aborted is not None:
                    raise RolloutFailed(f"aborted: {self.control.aborted}")
                self.observer(
                    "deploy.step",
                    steps.describe(step),
                    {"step": index, "steps": len(plan), "action": type(step).__name__},
                )
                await self._apply(step)
        except RolloutFailed as failure:
            await self._revert(old_wanted, failure)
            status = "aborted" if self.control.aborted is not None else "failed"
            return Outcome(status, failure.render())
        except errors.ShipyardError as error:  # the router or the store refused: revert too
            refused = RolloutFailed(error.headline(), hint=error.hint)
            await self._revert(old_wanted, refused)
            return Outcome("failed", refused.render())
        return Outcome("succeeded")

    async def _apply(self, step: steps.Step) -> None:
        if isinstance(step, steps.RunReleaseCommand):
            await self.target.run_release_command(step.command)
        elif isinstance(step, steps.Scale):
            await self.target.scale(step.release, step.service, step.count)
        elif isinstance(step, steps.Route):
            self.observer(
                "deploy.traffic",
                f"{step.weight}% of the traffic on the new release",
                {"weight": step.weight},
            )
            await self.target.route(step.weight)
        elif isinstance(step, steps.Pause):
            await self._pause(step)
        else:
            await self.target.keep_warm(step.release, step.seconds)

    async def _pause(self, step: steps.Pause) -> None:
        manual = step.seconds is None  # a timed pause moves on by itself: still "running"
        if manual:
            self.on_pause(True)
        try:
            if self.analysis is None:
                said = await self.control.wait(step.seconds)
            else:
                said = await self._analysed_pause(step)
        finally:
            if manual:
                self.on_pause(False)
        if said == "aborted":
            raise RolloutFailed(f"aborted: {self.control.aborted}")
        self.observer("deploy.promoted" if said == "promoted" else "deploy.resumed", said, {})

    async def _analysed_pause(self, step: steps.Pause) -> str:
        assert self.analysis is not None
        loop = asyncio.get_running_loop()
        end = None if step.seconds is None else loop.time() + step.seconds
        while True:
            left = None if end is None else max(0.0, end - loop.time())
            said = await self.control.wait(1.0 if left is None else min(1.0, left))
            if said != "elapsed" or (end is not None and loop.time() >= end):
                return said
            verdict = await self.analysis(step.weight)
            if verdict is not None:
                self.control.abort(f"analysis: {verdict}")
                return "aborted"

    async def _revert(self, old_wanted: dict[str, int], failure: RolloutFailed) -> None:
        self.observer("deploy.reverting", failure.headline(), {})
        for step in planning.revert(self.target.observe(), old_wanted):
            self.observer("deploy.step", steps.describe(step), {"action": type(step).__name__})
            if isinstance(step, steps.Route):
                self.observer(
                    "deploy.traffic", "100% of the traffic on the old release", {"weight": 0}
                )
            try:
                await self._apply(step)
            except errors.ShipyardError as again:  # keep going: the old release must serve
                self.observer("deploy.revert_problem", again.headline(), {})
