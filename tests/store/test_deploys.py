"""The deploy history on both databases: create, move along, read back; who holds a lock."""

from __future__ import annotations

import time

from shipyard.store import database, deploys, records


def create(store: database.Store, environment: str = "staging", **changes: object) -> int:
    values: dict[str, object] = {
        "environment": environment,
        "app": "shop",
        "kind": "deploy",
        "release_id": "r2",
        "commit": "c" * 40,
        "previous_release_id": "r1",
        "strategy": "canary",
        "actor": "ann",
        "branch": "main",
        "status": "queued",
        "settings": {"strategy": "canary", "steps": [[10, None]]},
        **changes,
    }
    return deploys.create(store, **values).id  # type: ignore[arg-type]


def test_a_deploy_is_recorded_moved_along_and_listed(database_url: str) -> None:
    with database.open_store(database_url) as store:
        first = create(store)
        record = deploys.get(store, first)
        assert record is not None
        assert (record.status, record.serving_release_id, record.weight) == ("queued", "r1", 0)
        assert record.settings == {"strategy": "canary", "steps": [[10, None]]}
        assert record.active
        deploys.update(store, first, status="running", started_at=1.0, weight=10)
        second = create(store, release_id="r3", status="waiting-approval")
        create(store, environment="production")
        assert [r.id for r in deploys.history(store, "staging")] == [second, first]
        assert [r.id for r in deploys.active(store, "staging")] == [first, second]
        done = deploys.update(store, first, status="succeeded", finished_at=2.0, weight=100)
        assert not done.active and done.weight == 100
        assert [r.id for r in deploys.active(store, "staging")] == [second]
        assert len(deploys.active(store)) == 2


def test_lock_info_says_who_and_since_when(database_url: str) -> None:
    with database.open_store(database_url) as store:
        assert records.lock_info(store, "staging") is None
        before = time.time()
        assert records.acquire_lock(store, "staging", "server@h:1:x:deploy-3", 60)
        holder, since = records.lock_info(store, "staging") or ("", 0.0)
        assert holder == "server@h:1:x:deploy-3" and since >= before
        assert not records.acquire_lock(store, "staging", "someone-else", 60)
        records.release_lock(store, "staging", "server@h:1:x:deploy-3")
        assert records.lock_info(store, "staging") is None
