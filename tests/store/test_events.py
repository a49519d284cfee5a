"""The event history on both databases: append, filter, newest first."""

from __future__ import annotations

from shipyard.store import database, events


def test_events_are_listed_newest_first_and_filtered(database_url: str) -> None:
    with database.open_store(database_url) as store:
        events.record_event(store, "staging", "deploy.started", summary="r1", at=10.0)
        events.record_event(
            store, "staging", "flag.changed", actor="ann", details={"flag": "new-ui"}, at=20.0
        )
        events.record_event(store, "production", "deploy.started", at=30.0)
        newest = events.list_events(store, "staging")
        assert [event.kind for event in newest] == ["flag.changed", "deploy.started"]
        assert newest[0].actor == "ann"
        assert newest[0].details == {"flag": "new-ui"}
        assert [e.environment for e in events.list_events(store, kind_prefix="deploy.")] == [
            "production",
            "staging",
        ]
        assert [e.at for e in events.list_events(store, since=15.0)] == [30.0, 20.0]
        assert len(events.list_events(store, limit=1)) == 1


def test_a_kind_prefix_with_like_wildcards_matches_literally(database_url: str) -> None:
    with database.open_store(database_url) as store:
        events.record_event(store, "staging", "deploy_x.started", at=1.0)
        events.record_event(store, "staging", "deploysx.started", at=2.0)
        kinds = [event.kind for event in events.list_events(store, kind_prefix="deploy_")]
        assert kinds == ["deploy_x.started"]
