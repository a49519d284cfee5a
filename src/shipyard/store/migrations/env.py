"""Alembic's environment: runs migrations on the connection the store hands over."""

from __future__ import annotations

from alembic import context

from shipyard.store import models

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=models.Base.metadata)
with context.begin_transaction():
    context.run_migrations()
