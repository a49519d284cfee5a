"""Opening the store: an engine for SQLite (WAL) or PostgreSQL, migrated to the latest schema.

``open_store()`` reads ``$SHIPYARD_DATABASE_URL`` (default: SQLite at
``$SHIPYARD_HOME/shipyard.db``) and runs Alembic's migrations when the schema is behind, so
every process (the CLI, the server) sees the same tables without a separate step. SQLAlchemy's
errors never leave this package: they become ``StoreError`` with a hint.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy
from sqlalchemy import event, exc, orm

from shipyard.core import errors
from shipyard.store import paths

HEAD_REVISION = "0005"
"""The newest migration; a database at another revision is migrated on open."""
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class StoreError(errors.ExecutionError):
    """The database cannot be reached, migrated or written."""


class Store:
    """An open database: ``session()`` gives a unit of work committed on success."""

    def __init__(self, engine: sqlalchemy.Engine) -> None:
        self.engine = engine
        self._sessions = orm.sessionmaker(engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def session(self) -> Iterator[orm.Session]:
        """A transaction: committed when the block ends, rolled back when it raises."""
        try:
            with self._sessions.begin() as session:
                yield session
        except exc.SQLAlchemyError as error:
            raise StoreError(
                f"the database refused a change: {_first_line(error)}",
                hint="check that the database is reachable and not full",
            ) from error

    def close(self) -> None:
        self.engine.dispose()


def engine_url(url: str) -> str:
    """PostgreSQL URLs use psycopg 3 (``postgresql+psycopg://``)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def create_engine(url: str) -> sqlalchemy.Engine:
    url = engine_url(url)
    if url.startswith("sqlite"):
        database = sqlalchemy.make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = sqlalchemy.create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_settings)
        return engine
    return sqlalchemy.create_engine(url, pool_pre_ping=True)


def _sqlite_settings(connection: object, record: object) -> None:
    cursor = connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def open_database(url: str) -> Store:
    """Connect to ``url`` and migrate it to ``HEAD_REVISION``."""
    try:
        engine = create_engine(url)
    except (exc.ArgumentError, ImportError) as error:
        raise StoreError(
            f"invalid database URL: {_first_line(error)}",
            hint="use sqlite:///path/to/shipyard.db or postgresql://user@host/dbname",
        ) from None
    try:
        with _migration_lock(engine), engine.connect() as connection:
            if current_revision(connection) != HEAD_REVISION:
                migrate(connection)
                connection.commit()
    except exc.SQLAlchemyError as error:
        engine.dispose()
        raise StoreError(
            f"cannot open the database: {_first_line(error)}",
            hint=f"check {paths.DATABASE_VARIABLE} and that the database server is running",
        ) from None
    return Store(engine)


@contextlib.contextmanager
def open_store(url: str | None = None) -> Iterator[Store]:
    """The configured store (``$SHIPYARD_DATABASE_URL`` or SQLite in ``$SHIPYARD_HOME``)."""
    store = open_database(url or paths.database_url(paths.home()))
    try:
        yield store
    finally:
        store.close()


@contextlib.contextmanager
def _migration_lock(engine: sqlalchemy.Engine) -> Iterator[None]:
    """For SQLite, a file lock beside the database: one process migrates a fresh file at once."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    import fcntl

    with open(f"{database}.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def current_revision(connection: sqlalchemy.Connection) -> str | None:
    if not sqlalchemy.inspect(connection).has_table("alembic_version"):
        return None
    row = connection.execute(sqlalchemy.text("SELECT version_num FROM alembic_version")).first()
    return str(row[0]) if row is not None else None


def migrate(connection: sqlalchemy.Connection, revision: str = "head") -> None:
    """Run Alembic's migrations up to ``revision`` on ``connection``."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    if connection.dialect.name == "postgresql":
        # Two processes opening a fresh database at once must not both create the tables.
        connection.execute(sqlalchemy.text("SELECT pg_advisory_xact_lock(7000117)"))
        if current_revision(connection) == HEAD_REVISION:
            return
    command.upgrade(config, revision)


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error)
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__
