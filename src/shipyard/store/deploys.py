"""The deploy history: create a deploy, move it along, read it back. Plain frozen values.

The rollout writes here before each change of traffic, so the row always says which release has
the traffic; a server killed mid-deploy finds ``running`` rows on restart, marks them
``interrupted`` and converges the environment to the release the row names.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import field, fields
from typing import Any

import sqlalchemy

from shipyard.core.frozen import frozen
from shipyard.store import database, models

ACTIVE = ("queued", "waiting-approval", "running", "paused")
"""Statuses of a deploy that has not ended."""
FINISHED = ("succeeded", "failed", "aborted", "rejected", "interrupted")


@frozen
class DeployRecord:
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
    settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


def _record(row: models.Deploy) -> DeployRecord:
    values = {f.name: getattr(row, f.name) for f in fields(DeployRecord) if f.name != "settings"}
    return DeployRecord(**values, settings=json.loads(row.settings or "{}"))


def create(
    store: database.Store,
    *,
    environment: str,
    app: str,
    kind: str,
    release_id: str,
    commit: str,
    previous_release_id: str | None,
    strategy: str,
    actor: str,
    branch: str,
    status: str,
    settings: Mapping[str, Any],
) -> DeployRecord:
    row = models.Deploy(
        environment=environment,
        app=app,
        kind=kind,
        release_id=release_id,
        commit=commit,
        previous_release_id=previous_release_id,
        strategy=strategy,
        actor=actor,
        branch=branch,
        status=status,
        reason="",
        serving_release_id=previous_release_id,
        weight=0,
        settings=json.dumps(dict(settings), sort_keys=True),
        created_at=time.time(),
    )
    with store.session() as session:
        session.add(row)
        session.flush()
        return _record(row)


def update(store: database.Store, deploy_id: int, **changes: Any) -> DeployRecord:
    """Change some columns of a deploy (``status``, ``reason``, ``weight``, ...)."""
    with store.session() as session:
        row = session.get(models.Deploy, deploy_id, with_for_update=True)
        if row is None:
            raise database.StoreError(f"no deploy {deploy_id}")
        for key, value in changes.items():
            setattr(row, key, value)
        session.flush()
        return _record(row)


def get(store: database.Store, deploy_id: int) -> DeployRecord | None:
    with store.session() as session:
        row = session.get(models.Deploy, deploy_id)
        return _record(row) if row is not None else None


def history(store: database.Store, environment: str, *, limit: int = 50) -> list[DeployRecord]:
    """An environment's deploys, newest first."""
    query = (
        sqlalchemy.select(models.Deploy)
        .where(models.Deploy.environment == environment)
        .order_by(models.Deploy.id.desc())
        .limit(limit)
    )
    with store.session() as session:
        return [_record(row) for row in session.scalars(query)]


def active(store: database.Store, environment: str | None = None) -> list[DeployRecord]:
    """Deploys that have not ended, oldest first."""
    query = (
        sqlalchemy.select(models.Deploy)
        .where(models.Deploy.status.in_(ACTIVE))
        .order_by(models.Deploy.id)
    )
    if environment is not None:
        query = query.where(models.Deploy.environment == environment)
    with store.session() as session:
        return [_record(row) for row in session.scalars(query)]
