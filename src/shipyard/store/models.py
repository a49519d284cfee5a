"""The store's tables, as SQLAlchemy 2 typed mappings.

``releases`` mirrors the release manifests on disk (which stay the source of truth for a release's
files); ``environments`` holds each environment's desired state (which release, how many replicas,
up or down); ``instances`` what the supervisor runs (process ids and start time, so a restarted
server can tell its instances from a reused pid); ``deploy_locks`` lets one deploy at a time change
an environment. Schema changes go through a new migration in ``migrations/versions``.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """The declarative base of every table."""


class Release(Base):
    __tablename__ = "releases"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    app: Mapped[str] = mapped_column(String(64), index=True)
    commit: Mapped[str] = mapped_column(String(64))
    tree: Mapped[str] = mapped_column(String(64))
    ref: Mapped[str] = mapped_column(Text)
    project_digest: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[float] = mapped_column(Float)
    build_seconds: Mapped[float] = mapped_column(Float)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    failed_service: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Environment(Base):
    __tablename__ = "environments"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    app: Mapped[str] = mapped_column(String(64))
    release_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("releases.id"), nullable=True
    )
    desired: Mapped[str] = mapped_column(String(16), default="down")
    """``up``: keep the release's instances running; ``down``: run nothing."""
    replicas: Mapped[str] = mapped_column(Text, default="{}")
    """JSON: service name -> replicas, overriding the project file's counts."""
    config: Mapped[str] = mapped_column(Text, default="{}")
    """JSON: the ``--set KEY=VALUE`` config values the running release was deployed with."""
    updated_at: Mapped[float] = mapped_column(Float)


class Instance(Base):
    __tablename__ = "instances"
    __table_args__ = (UniqueConstraint("environment", "release_id", "service", "slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    environment: Mapped[str] = mapped_column(
        String(64), ForeignKey("environments.name", ondelete="CASCADE"), index=True
    )
    service: Mapped[str] = mapped_column(String(64))
    slot: Mapped[int] = mapped_column(Integer)
    release_id: Mapped[str] = mapped_column(String(64))
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pgid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    start_ticks: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """The process's start time in clock ticks since boot (``/proc/<pid>/stat`` field 22)."""
    port: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    restarts: Mapped[int] = mapped_column(Integer, default=0)
    log_path: Mapped[str] = mapped_column(Text)
    started_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_at: Mapped[float] = mapped_column(Float)
    message: Mapped[str] = mapped_column(Text, default="")


class DeployLock(Base):
    __tablename__ = "deploy_locks"

    environment: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(Text)
    acquired_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)


class Event(Base):
    """One thing that happened to an environment: a deploy step, a flag change, an alert.

    The environment's history, append-only. ``kind`` is a dotted name (``deploy.started``,
    ``flag.changed``); ``details`` is JSON holding no secret value.
    """

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    environment: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    actor: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[float] = mapped_column(Float, index=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[str] = mapped_column(Text, default="{}")


class Deploy(Base):
    """One deploy or rollback of an environment, from request to outcome.

    ``status`` moves from ``waiting-approval``/``queued`` through ``running`` (``paused`` at a
    canary step) to ``succeeded``, ``failed``, ``aborted``, ``rejected`` or ``interrupted`` (the
    server died during it). ``serving_release_id`` and ``weight`` say where the traffic is, as
    recorded before each change, so a restarted server knows which release to converge to.
    """

    __tablename__ = "deploys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    environment: Mapped[str] = mapped_column(String(64), index=True)
    app: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    """``deploy`` or ``rollback``."""
    release_id: Mapped[str] = mapped_column(String(64))
    commit: Mapped[str] = mapped_column(String(64))
    previous_release_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    strategy: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(Text, default="")
    branch: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(24), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    serving_release_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    weight: Mapped[int] = mapped_column(Integer, default=0)
    settings: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[float] = mapped_column(Float)
    started_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    approved_by: Mapped[str | None] = mapped_column(Text, nullable=True)
    approved_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class FlagSet(Base):
    """The flags an environment serves: the flagd document last published to it.

    ``revision`` grows with every change to the environment's flags (a new document or a runtime
    override), so it names a version of what OFREP answers (its ETag).
    """

    __tablename__ = "flag_sets"

    environment: Mapped[str] = mapped_column(String(64), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text, default="")
    revision: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[float] = mapped_column(Float)
    updated_by: Mapped[str] = mapped_column(Text, default="")


class FlagOverride(Base):
    """A runtime change to one flag of one environment: JSON of flagd fields it replaces."""

    __tablename__ = "flag_overrides"

    environment: Mapped[str] = mapped_column(String(64), primary_key=True)
    flag: Mapped[str] = mapped_column(String(256), primary_key=True)
    fields: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[float] = mapped_column(Float)
    updated_by: Mapped[str] = mapped_column(Text, default="")


class FlagAudit(Base):
    """Who changed which flag of which environment, when, and its definition before and after."""

    __tablename__ = "flag_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    environment: Mapped[str] = mapped_column(String(64), index=True)
    flag: Mapped[str] = mapped_column(String(256), index=True)
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[float] = mapped_column(Float, index=True)
    before: Mapped[str] = mapped_column(Text, default="null")
    after: Mapped[str] = mapped_column(Text, default="null")


class FlagToken(Base):
    """A read-only token that evaluates one environment's flags; only its SHA-256 is kept."""

    __tablename__ = "flag_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    environment: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(Text, default="")
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[float] = mapped_column(Float)
    created_by: Mapped[str] = mapped_column(Text, default="")
    revoked_at: Mapped[float | None] = mapped_column(Float, nullable=True)
