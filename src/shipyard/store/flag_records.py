"""Feature flags in the store: published flag sets, runtime overrides, the audit log, tokens.

Every change bumps the environment's flag ``revision`` (what OFREP's ETag names), writes one
audit row (who, when, the flag before and after) and one event in the environment's history
(``flag.changed``), so an incident's timeline shows the flag flip that preceded it. Flag tokens
are kept as SHA-256 digests only; a token is shown once, when it is created.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlalchemy

from shipyard.core.frozen import frozen
from shipyard.store import database, events, models

TOKEN_PREFIX = "sft_"
SERVICE_TOKEN_NAME = "deployed services"


@frozen
class FlagSetRecord:
    environment: str
    document: Mapping[str, Any]
    source: str
    revision: int
    updated_at: float
    updated_by: str


@frozen
class AuditRecord:
    id: int
    environment: str
    flag: str
    action: str
    actor: str
    at: float
    before: Any
    after: Any


@frozen
class TokenRecord:
    id: str
    environment: str
    name: str
    created_at: float
    created_by: str
    revoked_at: float | None


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


# -- flag sets and overrides --


def get_set(store: database.Store, environment: str) -> FlagSetRecord | None:
    with store.session() as session:
        row = session.get(models.FlagSet, environment)
        if row is None:
            return None
        return FlagSetRecord(
            row.environment,
            json.loads(row.document),
            row.source,
            row.revision,
            row.updated_at,
            row.updated_by,
        )


def revision(store: database.Store, environment: str) -> int | None:
    """The environment's flag revision (None: nothing published), one cheap query."""
    query = sqlalchemy.select(models.FlagSet.revision).where(
        models.FlagSet.environment == environment
    )
    with store.session() as session:
        return session.scalar(query)


def list_sets(store: database.Store) -> list[FlagSetRecord]:
    with store.session() as session:
        rows = session.scalars(
            sqlalchemy.select(models.FlagSet).order_by(models.FlagSet.environment)
        )
        return [
            FlagSetRecord(
                r.environment,
                json.loads(r.document),
                r.source,
                r.revision,
                r.updated_at,
                r.updated_by,
            )
            for r in rows
        ]


def publish(
    store: database.Store,
    environment: str,
    document: Mapping[str, Any],
    *,
    source: str,
    actor: str,
    summary: str,
) -> int:
    """Make ``document`` the environment's flags; returns the new revision."""
    now = time.time()
    with store.session() as session:
        row = session.get(models.FlagSet, environment, with_for_update=True)
        before = json.loads(row.document) if row is not None else None
        if row is None:
            row = models.FlagSet(environment=environment, revision=0)
            session.add(row)
        row.document = _dumps(document)
        row.source = source
        row.revision = (row.revision or 0) + 1
        row.updated_at = now
        row.updated_by = actor
        session.add(
            models.FlagAudit(
                environment=environment,
                flag="*",
                action="publish",
                actor=actor,
                at=now,
                before=_dumps(_keys(before)),
                after=_dumps(_keys(document)),
            )
        )
        new_revision = row.revision
    events.record_event(
        store,
        environment,
        "flag.published",
        summary=summary,
        actor=actor,
        details={"source": source, "revision": new_revision, "flags": _keys(document)},
        at=now,
    )
    return new_revision


def _keys(document: Mapping[str, Any] | None) -> list[str] | None:
    if document is None:
        return None
    flags = document.get("flags")
    return sorted(flags) if isinstance(flags, dict) else []


def overrides(store: database.Store, environment: str) -> dict[str, dict[str, Any]]:
    """Flag key -> the flagd fields its runtime override replaces."""
    query = sqlalchemy.select(models.FlagOverride).where(
        models.FlagOverride.environment == environment
    )
    with store.session() as session:
        return {row.flag: json.loads(row.fields) for row in session.scalars(query)}


def change_flag(
    store: database.Store,
    environment: str,
    flag: str,
    fields: Mapping[str, Any] | None,
    *,
    action: str,
    actor: str,
    before: Any,
    after: Any,
    summary: str,
) -> int:
    """Add ``fields`` to the flag's runtime override (None: drop the override), audit the change
    and record the event."""
    now = time.time()
    with store.session() as session:
        target = session.get(models.FlagSet, environment, with_for_update=True)
        if target is None:
            raise database.StoreError(f"environment `{environment}` has no published flags")
        row = session.get(models.FlagOverride, (environment, flag))
        if fields is None:
            if row is not None:
                session.delete(row)
        else:
            merged = {**(json.loads(row.fields) if row is not None else {}), **fields}
            if row is None:
                row = models.FlagOverride(environment=environment, flag=flag)
                session.add(row)
            row.fields = _dumps(merged)
            row.updated_at = now
            row.updated_by = actor
        target.revision += 1
        new_revision = target.revision
        session.add(
            models.FlagAudit(
                environment=environment,
                flag=flag,
                action=action,
                actor=actor,
                at=now,
                before=_dumps(before),
                after=_dumps(after),
            )
        )
    events.record_event(
        store,
        environment,
        "flag.changed",
        summary=summary,
        actor=actor,
        details={"flag": flag, "action": action, "revision": new_revision, "before": before,
                 "after": after},
        at=now,
    )  # fmt: skip
    return new_revision


def audit_log(
    store: database.Store, environment: str, flag: str | None = None, limit: int = 100
) -> list[AuditRecord]:
    """Changes newest first."""
    query = (
        sqlalchemy.select(models.FlagAudit)
        .where(models.FlagAudit.environment == environment)
        .order_by(models.FlagAudit.at.desc(), models.FlagAudit.id.desc())
        .limit(limit)
    )
    if flag is not None:
        query = query.where(models.FlagAudit.flag == flag)
    with store.session() as session:
        return [
            AuditRecord(
                r.id, r.environment, r.flag, r.action, r.actor, r.at, json.loads(r.before),
                json.loads(r.after),
            )
            for r in session.scalars(query)
        ]  # fmt: skip


# -- tokens --


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    store: database.Store, environment: str, *, name: str, actor: str
) -> tuple[TokenRecord, str]:
    """A new read-only flag token for ``environment``; the token itself is returned only here."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return _add_token(store, environment, token, name=name, actor=actor), token


def _add_token(
    store: database.Store, environment: str, token: str, *, name: str, actor: str, id_: str = ""
) -> TokenRecord:
    row = models.FlagToken(
        id=id_ or "ft_" + secrets.token_hex(6),
        environment=environment,
        name=name,
        digest=digest(token),
        created_at=time.time(),
        created_by=actor,
        revoked_at=None,
    )
    with store.session() as session:
        session.add(row)
        return _token(row)


def _token(row: models.FlagToken) -> TokenRecord:
    return TokenRecord(
        row.id, row.environment, row.name, row.created_at, row.created_by, row.revoked_at
    )


def token_environment(store: database.Store, token: str) -> str | None:
    """The environment a live token evaluates, or None for an unknown or revoked one."""
    query = sqlalchemy.select(models.FlagToken).where(models.FlagToken.digest == digest(token))
    with store.session() as session:
        row = session.scalars(query).first()
        if row is None or row.revoked_at is not None:
            return None
        return row.environment


def list_tokens(store: database.Store, environment: str | None = None) -> list[TokenRecord]:
    query = sqlalchemy.select(models.FlagToken).order_by(models.FlagToken.created_at)
    if environment is not None:
        query = query.where(models.FlagToken.environment == environment)
    with store.session() as session:
        return [_token(row) for row in session.scalars(query)]


def revoke_token(store: database.Store, token_id: str) -> TokenRecord | None:
    with store.session() as session:
        row = session.get(models.FlagToken, token_id)
        if row is None:
            return None
        if row.revoked_at is None:
            row.revoked_at = time.time()
        return _token(row)


def service_token(store: database.Store, home: Path, environment: str) -> str:
    """The token the environment's deployed services evaluate flags with.

    Derived from a key kept in ``$SHIPYARD_HOME/keys/flags.key`` (mode 0600), so it is the same
    after a server restart and adopted instances keep working; it is registered like any other
    token and can be revoked (a new key then makes a new one).
    """
    key = _service_key(home)
    token = TOKEN_PREFIX + hmac.new(key, environment.encode(), hashlib.sha256).hexdigest()
    query = sqlalchemy.select(models.FlagToken.id).where(models.FlagToken.digest == digest(token))
    with store.session() as session:
        known = session.scalar(query)
    if known is None:
        _add_token(
            store, environment, token, name=SERVICE_TOKEN_NAME, actor="shipyard",
            id_="ft_svc_" + secrets.token_hex(4),
        )  # fmt: skip
    return token


def _service_key(home: Path) -> bytes:
    path = home / "keys" / "flags.key"
    try:
        return bytes.fromhex(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fresh = secrets.token_hex(32)
    temporary = path.with_name(f".flags.key.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(fresh + "\n")
    try:
        os.link(temporary, path)  # the first writer wins; a racing one reads its key
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return bytes.fromhex(path.read_text().strip())


def service_environment(
    store: database.Store, home: Path, url: str | None, environment: str
) -> dict[str, str]:
    """The variables a deployed service reads its flags with: OFREP's standard
    ``OFREP_ENDPOINT`` and ``OFREP_HEADERS``, and Shipyard's own for ``ShipyardProvider``."""
    if url is None:
        return {}
    token = service_token(store, home, environment)
    return {
        "OFREP_ENDPOINT": url,
        "OFREP_HEADERS": f"Authorization=Bearer {token}",
        "SHIPYARD_FLAGS_URL": url,
        "SHIPYARD_FLAGS_TOKEN": token,
    }
