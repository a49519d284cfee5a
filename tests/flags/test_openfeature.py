"""ShipyardProvider on a flagd file, through the real OpenFeature SDK: evaluation, watching,
events."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext
from openfeature.event import EventDetails, ProviderEvent
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason

from shipyard.flags.openfeature import ShipyardProvider

FLAGS: dict[str, Any] = {
    "flags": {
        "new-checkout": {"state": "ENABLED", "variants": {"on": True, "off": False},
                         "defaultVariant": "off",
                         "targeting": {"if": [{"ends_with": [{"var": "email"}, "@example.com"]},
                                              "on", None]}},
        "banner": {"state": "ENABLED", "variants": {"a": "Hello", "b": "Welcome"},
                   "defaultVariant": "a"},
        "retries": {"state": "ENABLED", "variants": {"few": 2, "many": 7},
                    "defaultVariant": "many"},
        "ratio": {"state": "ENABLED", "variants": {"low": 0.25, "high": 0.75},
                  "defaultVariant": "high"},
        "limits": {"state": "ENABLED", "variants": {"std": {"rpm": 60}}, "defaultVariant": "std"},
        "legacy": {"state": "DISABLED", "variants": {"on": True, "off": False},
                   "defaultVariant": "on"},
        "broken": {"state": "ENABLED", "variants": {"on": True}, "defaultVariant": "of"},
    }
}  # fmt: skip


class Events:
    def __init__(self) -> None:
        self.seen: list[tuple[ProviderEvent, EventDetails]] = []
        self.changed = threading.Event()

    def handler(self, kind: ProviderEvent) -> Any:
        def record(details: EventDetails) -> None:
            self.seen.append((kind, details))
            if kind == ProviderEvent.PROVIDER_CONFIGURATION_CHANGED:
                self.changed.set()

        return record


@pytest.fixture
def flags_file(tmp_path: Path) -> Path:
    path = tmp_path / "flags.json"
    path.write_text(json.dumps(FLAGS))
    return path


@pytest.fixture
def client(flags_file: Path) -> Iterator[tuple[OpenFeatureClient, Events]]:
    domain = f"test-{uuid.uuid4().hex}"
    events = Events()
    client = api.get_client(domain)
    for kind in (ProviderEvent.PROVIDER_READY, ProviderEvent.PROVIDER_CONFIGURATION_CHANGED,
                 ProviderEvent.PROVIDER_ERROR):  # fmt: skip
        client.add_handler(kind, events.handler(kind))
    provider = ShipyardProvider(path=flags_file, interval=0.05)
    api.set_provider_and_wait(provider, domain)
    yield client, events
    provider.shutdown()


def test_every_type_evaluates_locally(client: tuple[OpenFeatureClient, Events]) -> None:
    of, events = client
    assert events.seen[-1][0] == ProviderEvent.PROVIDER_READY
    staff = EvaluationContext("u-1", {"email": "ann@example.com"})
    assert of.get_boolean_details("new-checkout", False, staff).reason == Reason.TARGETING_MATCH
    assert of.get_boolean_value("new-checkout", True, EvaluationContext("u-2", {})) is False
    assert of.get_string_value("banner", "x") == "Hello"
    assert of.get_integer_value("retries", 0) == 7
    assert of.get_float_value("ratio", 0.0) == 0.75
    assert of.get_object_value("limits", {}) == {"rpm": 60}
    disabled = of.get_boolean_details("legacy", False)
    assert (disabled.value, disabled.reason) == (False, Reason.DISABLED)
    missing = of.get_boolean_details("nope", True)
    assert (missing.value, missing.error_code) == (True, ErrorCode.FLAG_NOT_FOUND)
    broken = of.get_boolean_details("broken", False)
    assert broken.error_code == ErrorCode.FLAG_NOT_FOUND  # refused at load, the others loaded
    mismatch = of.get_string_details("retries", "d")
    assert (mismatch.value, mismatch.error_code) == ("d", ErrorCode.TYPE_MISMATCH)


def test_a_changed_file_is_picked_up_and_announced(
    client: tuple[OpenFeatureClient, Events], flags_file: Path
) -> None:
    of, events = client
    changed = json.loads(json.dumps(FLAGS))
    changed["flags"]["banner"]["defaultVariant"] = "b"
    temporary = flags_file.with_suffix(".tmp")
    temporary.write_text(json.dumps(changed))
    os.replace(temporary, flags_file)
    assert events.changed.wait(10), "no PROVIDER_CONFIGURATION_CHANGED"
    kind, details = events.seen[-1]
    assert kind == ProviderEvent.PROVIDER_CONFIGURATION_CHANGED
    assert details.flags_changed == ["banner"]
    assert of.get_string_value("banner", "x") == "Welcome"


def test_a_broken_edit_keeps_the_last_good_flags(
    client: tuple[OpenFeatureClient, Events], flags_file: Path
) -> None:
    of, events = client
    flags_file.write_text('{"flags": ')
    deadline = time.monotonic() + 10
    while not any(kind == ProviderEvent.PROVIDER_ERROR for kind, _ in events.seen):
        assert time.monotonic() < deadline, "no PROVIDER_ERROR"
        time.sleep(0.02)
    assert of.get_string_value("banner", "x") == "Hello"


def test_a_provider_needs_a_file_or_a_server() -> None:
    with pytest.raises(ValueError, match="give either path="):
        ShipyardProvider()
    with pytest.raises(ValueError, match="needs token="):
        ShipyardProvider(url="http://127.0.0.1:1")
