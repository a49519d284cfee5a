"""The deploy routes of the API: deploy, history, rollback, promote, abort, approve, reject.

``POST /api/v1/environments/{name}/deploys`` answers at once with the deploy's record and plan
(or only the plan for a dry run); the rollout runs on the server, and the CLI follows it through
``GET /api/v1/deploys/{id}`` and its events. Refusals are the API's usual JSON errors.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from shipyard.server import controller, deploys
from shipyard.store import deploys as deploy_records
from shipyard.store import events


class DeployBody(BaseModel):
    app: str | None = Field(default=None, description="The app (required for a new environment).")
    release: str | None = Field(default=None, description="Release id or prefix (default newest).")
    strategy: str | None = Field(default=None, description="Overrides the environment's strategy.")
    settings: dict[str, str] = Field(
        default_factory=dict, description="Deploy settings for this deploy (`--setting`)."
    )
    config: dict[str, str] = Field(
        default_factory=dict, description="Config values for this deploy (`--set`)."
    )
    actor: str = Field(default="", description="Who asks (recorded in the history).")
    branch: str = Field(default="", description="The branch of the commit (protection rules).")
    dry_run: bool = False
    wait: bool = Field(default=False, description="Queue behind a running deploy.")


class ActorBody(BaseModel):
    actor: str = ""


class RollbackBody(BaseModel):
    to: str | None = None
    actor: str = ""


class Deploy(BaseModel):
    id: int
    environment: str
    app: str
    kind: str
    release_id: str
    commit: str
    previous_release_id: str | None
    strategy: str
    actor: str
    branch: str
    status: str
    reason: str
    serving_release_id: str | None
    weight: int
    created_at: float
    started_at: float | None
    finished_at: float | None
    approved_by: str | None
    approved_at: float | None


class Requested(BaseModel):
    deploy: Deploy | None
    plan: list[str]
    strategy: str


class Event(BaseModel):
    id: int
    kind: str
    at: float
    summary: str
    actor: str


def _deploy(record: deploy_records.DeployRecord) -> Deploy:
    values = {name: getattr(record, name) for name in Deploy.model_fields}
    return Deploy(**values)


def _requested(found: deploys.Requested) -> Requested:
    deploy = _deploy(found.record) if found.record is not None else None
    return Requested(deploy=deploy, plan=list(found.plan), strategy=found.strategy)


def router(state: controller.Controller) -> APIRouter:
    routes = APIRouter(tags=["deploys"])
    manager = state.deploys

    @routes.post("/api/v1/environments/{name}/deploys", response_model=Requested)
    async def deploy(name: str, body: DeployBody) -> Requested:
        """Start a deploy (answers at once; follow it with ``GET /api/v1/deploys/{id}``)."""
        request = deploys.DeployRequest(
            environment=name,
            app=body.app,
            release=body.release,
            strategy=body.strategy,
            overrides=body.settings,
            config=body.config,
            actor=body.actor,
            branch=body.branch,
            dry_run=body.dry_run,
            wait=body.wait,
        )
        return _requested(await manager.request(request))

    @routes.get("/api/v1/environments/{name}/deploys", response_model=list[Deploy])
    async def history(name: str, limit: int = Query(50, ge=1, le=1000)) -> list[Deploy]:
        """An environment's deploys and rollbacks, newest first."""
        found = await asyncio.to_thread(deploy_records.history, state.store, name, limit=limit)
        if not found:
            await state.view(name)  # 404 for an unknown environment
        return [_deploy(record) for record in found]

    @routes.get("/api/v1/deploys/{deploy_id}", response_model=Deploy)
    async def get_deploy(deploy_id: int) -> Deploy:
        found = await asyncio.to_thread(deploy_records.get, state.store, deploy_id)
        if found is None:
            raise controller.NotFound(f"no deploy {deploy_id}")
        return _deploy(found)

    @routes.get("/api/v1/deploys/{deploy_id}/events", response_model=list[Event])
    async def deploy_events(deploy_id: int, after: int = 0) -> list[Event]:
        """The deploy's events, oldest first (``after``: only those with a larger id)."""
        found = await asyncio.to_thread(deploy_records.get, state.store, deploy_id)
        if found is None:
            raise controller.NotFound(f"no deploy {deploy_id}")
        rows = await asyncio.to_thread(
            events.list_events,
            state.store,
            found.environment,
            kind_prefix="deploy.",
            since=found.created_at - 1,
            limit=2000,
        )
        return [
            Event(id=e.id, kind=e.kind, at=e.at, summary=e.summary, actor=e.actor)
            for e in reversed(rows)
            if e.details.get("deploy") == deploy_id and e.id > after
        ]

    @routes.post("/api/v1/environments/{name}/rollback", response_model=Requested)
    async def rollback(name: str, body: RollbackBody) -> Requested:
        """Back to the previous release (instant when it is still warm), as a deploy."""
        return _requested(await manager.rollback(name, body.to, body.actor))

    @routes.post("/api/v1/environments/{name}/promote", response_model=Deploy)
    async def promote(name: str, body: ActorBody) -> Deploy:
        """Move a paused canary on to its next step."""
        return _deploy(await manager.promote(name, body.actor))

    @routes.post("/api/v1/environments/{name}/abort", response_model=Deploy)
    async def abort(name: str, body: ActorBody) -> Deploy:
        """Stop the running deploy; the old release takes all the traffic back."""
        return _deploy(await manager.abort(name, body.actor))

    @routes.post("/api/v1/deploys/{deploy_id}/approve", response_model=Deploy)
    async def approve(deploy_id: int, body: ActorBody) -> Deploy:
        return _deploy(await manager.decide(deploy_id, body.actor, approve=True))

    @routes.post("/api/v1/deploys/{deploy_id}/reject", response_model=Deploy)
    async def reject(deploy_id: int, body: ActorBody) -> Deploy:
        return _deploy(await manager.decide(deploy_id, body.actor, approve=False))

    return routes
