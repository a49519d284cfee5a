"""Flag sets, runtime overrides, the audit log and flag tokens, on both databases."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from shipyard.store import database, events, flag_records

DOCUMENT = {"flags": {"a": {"state": "ENABLED", "variants": {"on": True}, "defaultVariant": "on"}}}


def test_publish_change_and_reset_bump_the_revision_and_are_audited(database_url: str) -> None:
    with database.open_store(database_url) as store:
        assert flag_records.revision(store, "staging") is None
        with pytest.raises(database.StoreError, match="has no published flags"):
            flag_records.change_flag(store, "staging", "a", {"state": "DISABLED"}, action="disable",
                                     actor="ann", before=None, after=None, summary="")  # fmt: skip
        first = flag_records.publish(store, "staging", DOCUMENT, source="flags.json", actor="ann",
                                     summary="published 1 flag")  # fmt: skip
        assert first == 1 and flag_records.get_set(store, "staging").document == DOCUMENT  # type: ignore[union-attr]
        second = flag_records.change_flag(
            store, "staging", "a", {"state": "DISABLED"}, action="disable", actor="bob",
            before={"state": "ENABLED"}, after={"state": "DISABLED"}, summary="bob disabled a",
        )  # fmt: skip
        flag_records.change_flag(store, "staging", "a", {"defaultVariant": None}, action="x",
                                 actor="bob", before=1, after=2, summary="")  # fmt: skip
        assert second == 2 and flag_records.revision(store, "staging") == 3
        assert flag_records.overrides(store, "staging") == {
            "a": {"state": "DISABLED", "defaultVariant": None}
        }
        flag_records.change_flag(store, "staging", "a", None, action="reset", actor="bob",
                                 before=2, after=1, summary="")  # fmt: skip
        assert flag_records.overrides(store, "staging") == {}
        audit = flag_records.audit_log(store, "staging")
        assert [entry.action for entry in audit] == ["reset", "x", "disable", "publish"]
        assert (audit[2].actor, audit[2].before, audit[2].after) == (
            "bob", {"state": "ENABLED"}, {"state": "DISABLED"}
        )  # fmt: skip
        assert [e.action for e in flag_records.audit_log(store, "staging", "a")][-1] == "disable"
        kinds = [e.kind for e in events.list_events(store, "staging")]
        assert kinds.count("flag.changed") == 3 and kinds[-1] == "flag.published"


def test_tokens_are_kept_as_digests_and_can_be_revoked(database_url: str, tmp_path: Path) -> None:
    with database.open_store(database_url) as store:
        record, token = flag_records.create_token(store, "staging", name="web", actor="ann")
        assert token.startswith("sft_") and len(token) > 40
        assert flag_records.token_environment(store, token) == "staging"
        assert flag_records.token_environment(store, token + "x") is None
        listed = flag_records.list_tokens(store, "staging")
        assert [(t.id, t.name) for t in listed] == [(record.id, "web")]
        assert token not in repr(listed)
        flag_records.revoke_token(store, record.id)
        assert flag_records.token_environment(store, token) is None
        service = flag_records.service_token(store, tmp_path, "staging")
        assert flag_records.service_token(store, tmp_path, "staging") == service
        assert flag_records.service_token(store, tmp_path, "production") != service
        assert flag_records.token_environment(store, service) == "staging"
        key = tmp_path / "keys" / "flags.key"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        variables = flag_records.service_environment(store, tmp_path, "http://h:1", "staging")
        assert variables == {
            "OFREP_ENDPOINT": "http://h:1", "OFREP_HEADERS": f"Authorization=Bearer {service}",
            "SHIPYARD_FLAGS_URL": "http://h:1", "SHIPYARD_FLAGS_TOKEN": service,
        }  # fmt: skip
        assert flag_records.service_environment(store, tmp_path, None, "staging") == {}
