"""The environment's event history: append an event, read them back newest first.

Deploys, flag changes and (later) alerts and incidents all write here, so an incident can show what
changed just before it. Details are JSON; callers never put a secret value in them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import field
from typing import Any

import sqlalchemy

from shipyard.core.frozen import frozen
from shipyard.store import database, models


@frozen
class EventRecord:
    id: int
    environment: str
    kind: str
    actor: str
    at: float
    summary: str
    details: Mapping[str, Any] = field(default_factory=dict)


def record_event(
    store: database.Store,
    environment: str,
    kind: str,
    *,
    summary: str = "",
    actor: str = "",
    details: Mapping[str, Any] | None = None,
    at: float | None = None,
) -> EventRecord:
    """Append one event and return it with its id."""
    row = models.Event(
        environment=environment,
        kind=kind,
        actor=actor,
        at=time.time() if at is None else at,
        summary=summary,
        details=json.dumps(dict(details or {}), sort_keys=True),
    )
    with store.session() as session:
        session.add(row)
        session.flush()
        return _record(row)


def list_events(
    store: database.Store,
    environment: str | None = None,
    *,
    kind_prefix: str | None = None,
    since: float | None = None,
    limit: int = 100,
) -> list[EventRecord]:
    """Events newest first, optionally of one environment, of kinds starting with a prefix."""
    query = sqlalchemy.select(models.Event).order_by(models.Event.at.desc(), models.Event.id.desc())
    if environment is not None:
        query = query.where(models.Event.environment == environment)
    if kind_prefix is not None:
        query = query.where(models.Event.kind.startswith(kind_prefix, autoescape=True))
    if since is not None:
        query = query.where(models.Event.at >= since)
    with store.session() as session:
        return [_record(row) for row in session.scalars(query.limit(limit))]


def _record(row: models.Event) -> EventRecord:
    return EventRecord(
        id=row.id,
        environment=row.environment,
        kind=row.kind,
        actor=row.actor,
        at=row.at,
        summary=row.summary,
        details=json.loads(row.details or "{}"),
    )
