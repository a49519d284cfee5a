"""Shipyard's records: where ``$SHIPYARD_HOME`` is, and the database (SQLAlchemy, Alembic)."""
