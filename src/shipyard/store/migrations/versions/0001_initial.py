"""The first tables: releases, environments, instances, deploy locks.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "releases",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("app", sa.String(64), nullable=False, index=True),
        sa.Column("commit", sa.String(64), nullable=False),
        sa.Column("tree", sa.String(64), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("project_digest", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("build_seconds", sa.Float(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("failed_service", sa.String(64), nullable=True),
    )
    op.create_table(
        "environments",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("app", sa.String(64), nullable=False),
        sa.Column("release_id", sa.String(64), sa.ForeignKey("releases.id"), nullable=True),
        sa.Column("desired", sa.String(16), nullable=False),
        sa.Column("replicas", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "instances",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "environment",
            sa.String(64),
            sa.ForeignKey("environments.name", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.String(64), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("pgid", sa.Integer(), nullable=True),
        sa.Column("start_ticks", sa.BigInteger(), nullable=True),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("restarts", sa.Integer(), nullable=False),
        sa.Column("log_path", sa.Text(), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.UniqueConstraint("environment", "release_id", "service", "slot"),
    )
    op.create_table(
        "deploy_locks",
        sa.Column("environment", sa.String(64), primary_key=True),
        sa.Column("holder", sa.Text(), nullable=False),
        sa.Column("acquired_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("deploy_locks")
    op.drop_table("instances")
    op.drop_table("environments")
    op.drop_table("releases")
