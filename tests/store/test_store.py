"""The store on both databases: migrations on open, releases, environments, instances, locks."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy

from shipyard.store import database, paths, records

RELEASE = records.ReleaseRecord(
    id="abc123def456",
    app="shop",
    commit="c" * 40,
    tree="t" * 40,
    ref="main",
    project_digest="d" * 64,
    status="built",
    created_at=1000.5,
    build_seconds=1.25,
    size_bytes=4096,
    failed_service=None,
)


def instance(slot: int, **changes: object) -> records.InstanceRecord:
    values: dict[str, object] = {
        "environment": "staging",
        "service": "web",
        "slot": slot,
        "release_id": RELEASE.id,
        "pid": 100 + slot,
        "pgid": 100 + slot,
        "start_ticks": 5000 + slot,
        "port": 9000 + slot,
        "state": "ready",
        "restarts": 0,
        "log_path": f"/logs/web.{slot}.log",
        "started_at": 10.0,
        "updated_at": 11.0,
    }
    values.update(changes)
    return records.InstanceRecord(**values)  # type: ignore[arg-type]


def test_opening_migrates_to_the_latest_schema_once(database_url: str) -> None:
    with database.open_store(database_url) as store:
        tables = set(sqlalchemy.inspect(store.engine).get_table_names())
        assert {"releases", "environments", "instances", "deploy_locks"} <= tables
        with store.engine.connect() as connection:
            assert database.current_revision(connection) == database.HEAD_REVISION
    with database.open_store(database_url) as store:  # a second open finds it migrated
        assert records.list_releases(store) == []


def test_the_head_revision_constant_matches_the_migrations() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(database.MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_heads() == [database.HEAD_REVISION]


def test_sqlite_uses_write_ahead_logging(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/wal.db"
    with database.open_store(url) as store, store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_releases_round_trip(database_url: str) -> None:
    failed = records.ReleaseRecord(
        id="fff000111222",
        app="shop",
        commit="e" * 40,
        tree="t" * 40,
        ref="HEAD",
        project_digest="d" * 64,
        status="failed",
        created_at=2000.0,
        build_seconds=0.5,
        size_bytes=10,
        failed_service="web",
    )
    with database.open_store(database_url) as store:
        records.sync_releases(store, [RELEASE, failed])
        records.sync_releases(store, [RELEASE])  # idempotent
        assert records.get_release(store, RELEASE.id) == RELEASE
        assert records.list_releases(store, "shop") == [failed, RELEASE]
        assert records.list_releases(store, "other") == []
        assert records.get_release(store, "missing") is None


def test_environments_hold_the_desired_state(database_url: str) -> None:
    with database.open_store(database_url) as store:
        records.sync_releases(store, [RELEASE])
        created = records.set_environment(
            store, "staging", app="shop", release_id=RELEASE.id, desired="up", replicas={"web": 3}
        )
        assert (created.release_id, created.desired, dict(created.replicas)) == (
            RELEASE.id,
            "up",
            {"web": 3},
        )
        records.set_environment(store, "staging", app="shop", release_id=None, desired="down")
        found = records.get_environment(store, "staging")
        assert found is not None and (found.release_id, found.desired) == (None, "down")
        assert [e.name for e in records.list_environments(store)] == ["staging"]
        assert records.get_environment(store, "production") is None


def test_an_environment_cannot_point_at_an_unknown_release(database_url: str) -> None:
    with database.open_store(database_url) as store, pytest.raises(database.StoreError) as caught:
        records.set_environment(store, "staging", app="shop", release_id="nope", desired="up")
    assert caught.value.message.startswith("the database refused a change: ")


def test_instances_are_saved_by_slot_and_forgotten(database_url: str) -> None:
    with database.open_store(database_url) as store:
        records.sync_releases(store, [RELEASE])
        records.set_environment(store, "staging", app="shop", release_id=RELEASE.id, desired="up")
        records.save_instance(store, instance(1))
        records.save_instance(store, instance(2, state="starting", pid=None, start_ticks=None))
        records.save_instance(store, instance(1, restarts=2, pid=555))
        found = records.list_instances(store, "staging")
        assert found == [
            instance(1, restarts=2, pid=555),
            instance(2, state="starting", pid=None, start_ticks=None),
        ]
        assert found[0].name == "web.1"
        records.delete_instances(store, "staging", keep=[(RELEASE.id, "web", 2)])
        assert [i.slot for i in records.list_instances(store)] == [2]
        records.delete_instances(store, "staging")
        assert records.list_instances(store) == []


def test_a_deploy_lock_has_one_holder_until_it_expires(database_url: str) -> None:
    with database.open_store(database_url) as store:
        assert records.acquire_lock(store, "staging", "deploy-1", ttl=60)
        assert records.acquire_lock(store, "staging", "deploy-1", ttl=60)  # re-entrant
        assert not records.acquire_lock(store, "staging", "deploy-2", ttl=60)
        assert records.lock_holder(store, "staging") == "deploy-1"
        records.release_lock(store, "staging", "deploy-2")  # not the holder: no effect
        assert records.lock_holder(store, "staging") == "deploy-1"
        records.release_lock(store, "staging", "deploy-1")
        assert records.lock_holder(store, "staging") is None
        assert records.acquire_lock(store, "staging", "deploy-2", ttl=-1)  # already expired
        assert records.acquire_lock(store, "staging", "deploy-3", ttl=60)


def test_concurrent_lock_takers_get_exactly_one_lock(database_url: str) -> None:
    with database.open_store(database_url) as store:
        store.engine.dispose()
        winners: list[str] = []
        barrier = threading.Barrier(4)

        def take(holder: str) -> None:
            barrier.wait(timeout=10)
            if records.acquire_lock(store, "production", holder, ttl=60):
                winners.append(holder)

        threads = [threading.Thread(target=take, args=(f"d{n}",)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert len(winners) == 1


def test_two_processes_opening_a_fresh_database_both_succeed(database_url: str) -> None:
    results: list[object] = []

    def open_it() -> None:
        try:
            with database.open_store(database_url) as store:
                results.append(records.list_releases(store))
        except Exception as error:  # pragma: no cover - reported by the assertion
            results.append(error)

    threads = [threading.Thread(target=open_it) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == [[], [], []]


def test_a_bad_url_or_unreachable_server_is_one_clear_error(tmp_path: object) -> None:
    with pytest.raises(database.StoreError) as caught:
        database.open_database("nosuchdb://x")
    assert caught.value.message.startswith("invalid database URL")
    with pytest.raises(database.StoreError) as unreachable:
        database.open_database(f"postgresql://nobody@/x?host={tmp_path}&connect_timeout=2")
    assert unreachable.value.message.startswith("cannot open the database: ")
    assert unreachable.value.hint == (
        "check SHIPYARD_DATABASE_URL and that the database server is running"
    )


def test_the_url_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("SHIPYARD_HOME", str(tmp_path))
    monkeypatch.delenv("SHIPYARD_DATABASE_URL", raising=False)
    assert paths.database_url(paths.home()) == f"sqlite:///{tmp_path}/shipyard.db"
    monkeypatch.setenv("SHIPYARD_DATABASE_URL", "postgresql://u@h/db")
    assert paths.database_url(paths.home()) == "postgresql://u@h/db"
    assert database.engine_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database.engine_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
