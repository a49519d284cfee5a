"""Reading and writing the store's rows as plain frozen values.

Callers never hold ORM objects: each function opens its own unit of work and hands back frozen
dataclasses, so a value read here can cross threads and processes and is never lazily loaded.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import field, fields
from typing import Any

import sqlalchemy
from sqlalchemy import exc

from shipyard.core.frozen import frozen
from shipyard.store import database, models


@frozen
class ReleaseRecord:
    id: str
    app: str
    commit: str
    tree: str
    ref: str
    project_digest: str
    status: str
    created_at: float
    build_seconds: float
    size_bytes: int
    failed_service: str | None


@frozen
class EnvironmentRecord:
    name: str
    app: str
    release_id: str | None
    desired: str
    replicas: Mapping[str, int]
    updated_at: float
    config: Mapping[str, str] = field(default_factory=dict)
    """The ``--set`` config values the running release was deployed with."""


@frozen
class InstanceRecord:
    environment: str
    service: str
    slot: int
    release_id: str
    pid: int | None
    pgid: int | None
    start_ticks: int | None
    port: int
    state: str
    restarts: int
    log_path: str
    started_at: float | None
    updated_at: float
    message: str = ""

    @property
    def name(self) -> str:
        """``web.1``: the service and the 1-based slot."""
        return f"{self.service}.{self.slot}"


def _values(row: object, kind: type[Any]) -> dict[str, Any]:
    return {field.name: getattr(row, field.name) for field in fields(kind)}


# -- releases --


def sync_releases(store: database.Store, manifests: Iterable[ReleaseRecord]) -> None:
    """Insert or update the rows of these releases."""
    with store.session() as session:
        for manifest in manifests:
            row = session.get(models.Release, manifest.id) or models.Release(id=manifest.id)
            for field in fields(ReleaseRecord):
                setattr(row, field.name, getattr(manifest, field.name))
            session.add(row)


def get_release(store: database.Store, identifier: str) -> ReleaseRecord | None:
    with store.session() as session:
        row = session.get(models.Release, identifier)
        return ReleaseRecord(**_values(row, ReleaseRecord)) if row is not None else None


def list_releases(store: database.Store, app: str | None = None) -> list[ReleaseRecord]:
    query = sqlalchemy.select(models.Release).order_by(
        models.Release.created_at.desc(), models.Release.id
    )
    if app is not None:
        query = query.where(models.Release.app == app)
    with store.session() as session:
        return [ReleaseRecord(**_values(row, ReleaseRecord)) for row in session.scalars(query)]


# -- environments --


def _environment(row: models.Environment) -> EnvironmentRecord:
    return EnvironmentRecord(
        name=row.name,
        app=row.app,
        release_id=row.release_id,
        desired=row.desired,
        replicas=json.loads(row.replicas or "{}"),
        updated_at=row.updated_at,
        config=json.loads(row.config or "{}"),
    )


def get_environment(store: database.Store, name: str) -> EnvironmentRecord | None:
    with store.session() as session:
        row = session.get(models.Environment, name)
        return _environment(row) if row is not None else None


def list_environments(store: database.Store) -> list[EnvironmentRecord]:
    query = sqlalchemy.select(models.Environment).order_by(models.Environment.name)
    with store.session() as session:
        return [_environment(row) for row in session.scalars(query)]


def set_environment(
    store: database.Store,
    name: str,
    *,
    app: str,
    release_id: str | None,
    desired: str,
    replicas: Mapping[str, int] | None = None,
    config: Mapping[str, str] | None = None,
) -> EnvironmentRecord:
    """Record an environment's desired state (creating it when new).

    ``config``: the ``--set`` values of the deploy that brought ``release_id`` (None: keep the
    recorded ones).
    """
    with store.session() as session:
        row = session.get(models.Environment, name) or models.Environment(name=name)
        row.app = app
        row.release_id = release_id
        row.desired = desired
        row.replicas = json.dumps(dict(replicas or {}), sort_keys=True)
        if config is not None or row.config is None:
            row.config = json.dumps(dict(config or {}), sort_keys=True)
        row.updated_at = time.time()
        session.add(row)
        session.flush()
        return _environment(row)


def delete_environment(store: database.Store, name: str) -> None:
    """Forget an environment and its instances."""
    with store.session() as session:
        for instance in session.scalars(
            sqlalchemy.select(models.Instance).where(models.Instance.environment == name)
        ):
            session.delete(instance)
        session.flush()
        row = session.get(models.Environment, name)
        if row is not None:
            session.delete(row)


# -- instances --


def list_instances(store: database.Store, environment: str | None = None) -> list[InstanceRecord]:
    query = sqlalchemy.select(models.Instance).order_by(
        models.Instance.environment,
        models.Instance.service,
        models.Instance.slot,
        models.Instance.started_at,
    )
    if environment is not None:
        query = query.where(models.Instance.environment == environment)
    with store.session() as session:
        return [InstanceRecord(**_values(row, InstanceRecord)) for row in session.scalars(query)]


def save_instance(store: database.Store, record: InstanceRecord) -> None:
    """Insert or update the instance in ``record``'s (environment, release, service, slot)."""
    with store.session() as session:
        row = (
            session.scalars(
                sqlalchemy.select(models.Instance).where(
                    models.Instance.environment == record.environment,
                    models.Instance.release_id == record.release_id,
                    models.Instance.service == record.service,
                    models.Instance.slot == record.slot,
                )
            ).first()
            or models.Instance()
        )
        for field in fields(InstanceRecord):
            setattr(row, field.name, getattr(record, field.name))
        session.add(row)


def delete_instances(
    store: database.Store, environment: str, keep: Sequence[tuple[str, str, int]] = ()
) -> None:
    """Forget an environment's instances, except the (release, service, slot) in ``keep``."""
    kept = set(keep)
    with store.session() as session:
        query = sqlalchemy.select(models.Instance).where(models.Instance.environment == environment)
        for row in session.scalars(query):
            if (row.release_id, row.service, row.slot) not in kept:
                session.delete(row)


# -- deploy locks --


def acquire_lock(store: database.Store, environment: str, holder: str, ttl: float) -> bool:
    """Take an environment's deploy lock for ``ttl`` seconds; False when someone else holds it."""
    now = time.time()
    try:
        with store.session() as session:
            row = session.get(models.DeployLock, environment, with_for_update=True)
            if row is not None and row.holder != holder and row.expires_at > now:
                return False
            if row is None:
                row = models.DeployLock(environment=environment)
            row.holder = holder
            row.acquired_at = now
            row.expires_at = now + ttl
            session.add(row)
    except database.StoreError as error:
        if isinstance(error.__cause__, exc.IntegrityError):
            return False  # another holder inserted the row first
        raise
    return True


def release_lock(store: database.Store, environment: str, holder: str) -> None:
    with store.session() as session:
        row = session.get(models.DeployLock, environment)
        if row is not None and row.holder == holder:
            session.delete(row)


def lock_holder(store: database.Store, environment: str) -> str | None:
    with store.session() as session:
        row = session.get(models.DeployLock, environment)
        if row is None or row.expires_at <= time.time():
            return None
        return row.holder


def lock_holders(store: database.Store) -> dict[str, str]:
    """Every deploy lock: environment -> holder (expired ones included)."""
    with store.session() as session:
        return {
            row.environment: row.holder
            for row in session.scalars(sqlalchemy.select(models.DeployLock))
        }


def lock_info(store: database.Store, environment: str) -> tuple[str, float] | None:
    """Who holds an environment's deploy lock and since when (None when free or expired)."""
    with store.session() as session:
        row = session.get(models.DeployLock, environment)
        if row is None or row.expires_at <= time.time():
            return None
        return row.holder, row.acquired_at
