"""Flags on a real server: publishing from the CLI, OFREP for the real OFREP provider, runtime
changes with audit and events, flag tokens, and the in-process provider polling the server."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openfeature import api
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext
from openfeature.event import EventDetails, ProviderEvent
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason

from shipyard.flags.openfeature import ShipyardProvider
from shipyard.store import database, events, paths
from tests.server.harness import api as admin_api
from tests.server.harness import cleanup, server_info, shipyard

PROJECT = """\
app: shop
services:
  web: {run: python -m http.server $PORT}
flags: flags.json
environments:
  staging:
    flags:
      banner: {defaultVariant: welcome}
  production: {}
"""

FLAGS: dict[str, Any] = {
    "metadata": {"flagSetId": "shop"},
    "flags": {
        "new-checkout": {"state": "ENABLED", "variants": {"on": True, "off": False},
                         "defaultVariant": "off",
                         "targeting": {"if": [{"ends_with": [{"var": "email"}, "@example.com"]},
                                              "on", None]}},
        "banner": {"state": "ENABLED", "variants": {"hello": "Hello", "welcome": "Welcome"},
                   "defaultVariant": "hello"},
        "retries": {"state": "ENABLED", "variants": {"few": 2, "many": 7},
                    "defaultVariant": "many"},
        "ratio": {"state": "ENABLED", "variants": {"low": 0.25, "high": 0.75},
                  "defaultVariant": "high"},
        "limits": {"state": "ENABLED", "variants": {"std": {"rpm": 60}}, "defaultVariant": "std"},
        "legacy": {"state": "DISABLED", "variants": {"on": True, "off": False},
                   "defaultVariant": "on"},
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("flags") / "home"
    path.mkdir()
    with cleanup(path):
        started = shipyard("server", "start", cwd=path, home=path)
        assert started.returncode == 0, started.stderr
        yield path


@pytest.fixture(scope="module")
def project(home: Path) -> Path:
    root = home.parent / "project"
    root.mkdir()
    (root / "shipyard.yaml").write_text(PROJECT)
    (root / "flags.json").write_text(json.dumps(FLAGS, indent=2))
    pushed = shipyard("flags", "push", "--env", "staging", cwd=root, home=home)
    assert pushed.returncode == 0, pushed.stderr
    assert pushed.stdout == "staging: published 6 flag(s) from flags.json (revision 1)\n"
    return root


@pytest.fixture(scope="module")
def token(home: Path, project: Path) -> str:
    made = shipyard("flags", "token", "create", "--env", "staging", "--name", "web", cwd=project,
                    home=home)  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "It is not shown again." in made.stderr
    return made.stdout.strip()


def ofrep(home: Path, token: str) -> Any:
    domain = f"ofrep-{uuid.uuid4().hex}"
    provider = OFREPProvider(
        server_info(home).url, headers_factory=lambda: {"Authorization": f"Bearer {token}"}
    )
    api.set_provider_and_wait(provider, domain)
    return api.get_client(domain)


def evaluate(
    home: Path, token: str, key: str, context: Any = None, http: Any = httpx
) -> httpx.Response:
    return http.post(
        f"{server_info(home).url}/ofrep/v1/evaluate/flags/{key}",
        json={"context": context if context is not None else {}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def test_the_ofrep_provider_evaluates_every_type(home: Path, token: str) -> None:
    client = ofrep(home, token)
    staff = EvaluationContext("u-1", {"email": "ann@example.com"})
    details = client.get_boolean_details("new-checkout", False, staff)
    assert (details.value, details.reason, details.variant) == (
        True, Reason.TARGETING_MATCH, "on"
    )  # fmt: skip
    assert client.get_boolean_value("new-checkout", True, EvaluationContext("u-2")) is False
    assert client.get_string_value("banner", "x") == "Welcome"  # the staging override
    assert client.get_integer_value("retries", 0) == 7
    assert client.get_float_value("ratio", 0.0) == 0.75
    assert client.get_object_value("limits", {}) == {"rpm": 60}
    assert client.get_boolean_details("new-checkout", False).flag_metadata == {"flagSetId": "shop"}


def test_the_ofrep_provider_sees_disabled_missing_and_a_bad_token(home: Path, token: str) -> None:
    client = ofrep(home, token)
    disabled = client.get_boolean_details("legacy", False)
    assert (disabled.value, disabled.error_code) == (False, ErrorCode.FLAG_NOT_FOUND)
    assert disabled.error_message == "flag `legacy` is disabled"
    missing = client.get_string_details("nope", "fallback")
    assert (missing.value, missing.error_code) == ("fallback", ErrorCode.FLAG_NOT_FOUND)
    assert missing.error_message == "flag `nope` does not exist"
    refused = ofrep(home, "sft_not-a-token").get_boolean_details("new-checkout", False)
    assert (refused.value, refused.error_code, refused.error_message) == (
        False, ErrorCode.GENERAL, "unauthorized"
    )  # fmt: skip


def test_error_bodies_are_as_ofrep_specifies(home: Path, token: str) -> None:
    bad_context = evaluate(home, token, "banner", context=[1])
    assert (bad_context.status_code, bad_context.json()) == (
        400,
        {"key": "banner", "errorCode": "INVALID_CONTEXT",
         "errorDetails": "Provider context is not valid"},
    )  # fmt: skip
    missing = evaluate(home, token, "nope")
    assert (missing.status_code, missing.json()) == (
        404,
        {"key": "nope", "errorCode": "FLAG_NOT_FOUND",
         "errorDetails": "flag `nope` does not exist"},
    )  # fmt: skip
    url = server_info(home).url + "/ofrep/v1/evaluate/flags/banner"
    assert httpx.post(url, json={}, timeout=30).json() == {"errorDetails": "missing flag token"}
    admin = {"Authorization": f"Bearer {server_info(home).token}"}
    answer = httpx.post(url, json={}, headers=admin, timeout=30)
    assert (answer.status_code, answer.json()) == (401, {"errorDetails": "invalid flag token"})
    with_key = httpx.post(url, json={}, headers={"X-API-Key": token}, timeout=30)
    assert with_key.json()["value"] == "Welcome"


def test_bulk_evaluation_skips_disabled_flags_and_honours_the_etag(
    home: Path, project: Path, token: str
) -> None:
    url = server_info(home).url + "/ofrep/v1/evaluate/flags"
    headers = {"Authorization": f"Bearer {token}"}
    first = httpx.post(url, json={"context": {"targetingKey": "u-9"}}, headers=headers, timeout=30)
    assert first.status_code == 200
    keys = [item["key"] for item in first.json()["flags"]]
    assert sorted(keys) == ["banner", "limits", "new-checkout", "ratio", "retries"]
    etag = first.headers["etag"]
    same = httpx.post(url, json={"context": {"targetingKey": "u-9"}},
                      headers={**headers, "If-None-Match": etag}, timeout=30)  # fmt: skip
    assert (same.status_code, same.headers["etag"], same.content) == (304, etag, b"")
    changed = shipyard("flags", "set-default", "retries", "few", "--env", "staging", cwd=project,
                       home=home)  # fmt: skip
    assert changed.stdout == "staging: flag retries now defaults to few\n", changed.stderr
    again = httpx.post(url, json={"context": {"targetingKey": "u-9"}},
                       headers={**headers, "If-None-Match": etag}, timeout=30)  # fmt: skip
    assert again.status_code == 200 and again.headers["etag"] != etag
    assert {i["key"]: i.get("value") for i in again.json()["flags"]}["retries"] == 2


def test_runtime_changes_are_audited_and_in_the_environments_history(
    home: Path, project: Path, token: str
) -> None:
    def cli(*args: str) -> str:
        done = shipyard("flags", *args, "--env", "staging", cwd=project, home=home)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert cli("disable", "banner") == "staging: flag banner disabled\n"
    assert evaluate(home, token, "banner").status_code == 404
    assert cli("enable", "banner") == "staging: flag banner enabled\n"
    assert cli("rollout", "new-checkout", "--percent", "30") == (
        "staging: flag new-checkout serves on to 30% of targeting keys, off to the rest\n"
    )
    with httpx.Client() as http:
        served = [evaluate(home, token, "new-checkout", {"targetingKey": f"user-{i}"}, http).json()
                  for i in range(100)]  # fmt: skip
    share = sum(item["value"] for item in served) / len(served)
    assert 0.15 < share < 0.45 and {item["reason"] for item in served} == {"TARGETING_MATCH"}
    listed = cli("list")
    assert listed.splitlines()[0].split() == ["FLAG", "STATE", "DEFAULT", "TARGETING", "CHANGED",
                                              "AT", "RUNTIME"]  # fmt: skip
    assert any(line.startswith("new-checkout") and line.endswith("state,targeting")
               for line in listed.splitlines())  # fmt: skip
    history = cli("history", "new-checkout").splitlines()
    assert history[0].endswith("  rollout  new-checkout")
    audit = admin_api(home, "GET", "/api/v1/flags/staging/audit?flag=banner").json()
    assert [entry["action"] for entry in audit] == ["enable", "disable"]
    assert audit[1]["before"]["state"] == "ENABLED" and audit[1]["after"]["state"] == "DISABLED"
    store = database.open_database(paths.database_url(home))
    try:
        kinds = [(e.kind, e.details.get("flag")) for e in events.list_events(store, "staging")]
    finally:
        store.close()
    assert ("flag.changed", "banner") in kinds and ("flag.published", None) in kinds
    assert cli("reset", "new-checkout") == "staging: flag new-checkout is as published again\n"
    assert (
        evaluate(home, token, "new-checkout", {"targetingKey": "x"}).json()["reason"] == "DEFAULT"
    )


def test_refused_changes_name_the_problem(home: Path, project: Path) -> None:
    unknown = shipyard("flags", "enable", "banerr", "--env", "staging", cwd=project, home=home)
    assert unknown.returncode == 2
    assert unknown.stderr == (
        "error: environment `staging` has no flag `banerr`\n  hint: did you mean `banner`?\n"
    )
    bad = shipyard(
        "flags", "set-default", "banner", "hi", "--env", "staging", cwd=project, home=home
    )
    assert bad.returncode == 2
    assert bad.stderr.startswith(
        "error: cannot set-default flag `banner`: default variant `hi` is not one of "
    )
    nothing = shipyard("flags", "list", "--env", "production", cwd=project, home=home)
    assert nothing.stderr.startswith("error: environment `production` has no flags\n")
    bad_name = admin_api(home, "PUT", "/api/v1/flags/Staging_2", json={"document": FLAGS})
    assert (bad_name.status_code, bad_name.json()["error"]["message"]) == (
        400, "invalid environment name `Staging_2`"
    )  # fmt: skip


def test_a_broken_flags_file_is_not_published(home: Path, project: Path) -> None:
    broken = json.loads(json.dumps(FLAGS))
    broken["flags"]["retries"]["variants"]["many"] = "seven"
    (project / "flags.json").write_text(json.dumps(broken))
    try:
        before = admin_api(home, "GET", "/api/v1/flags/staging").json()["revision"]
        pushed = shipyard("flags", "push", "--env", "staging", cwd=project, home=home)
        assert pushed.returncode == 2
        assert pushed.stderr.startswith(
            "error: 1 invalid flag(s):\n  flags.json: /flags/retries/variants: flag `retries`: "
            "all variants of a flag must hold one type"
        )
        assert admin_api(home, "GET", "/api/v1/flags/staging").json()["revision"] == before
    finally:
        (project / "flags.json").write_text(json.dumps(FLAGS, indent=2))


def test_tokens_read_one_environment_and_can_be_revoked(home: Path, project: Path) -> None:
    made = admin_api(home, "POST", "/api/v1/flags/staging/tokens", json={"name": "tmp"}).json()
    url = server_info(home).url
    headers = {"Authorization": f"Bearer {made['token']}"}
    other = httpx.get(f"{url}/flags/v1/environments/production/document", headers=headers)
    assert (other.status_code, other.json()) == (
        403, {"errorDetails": "this flag token reads environment `staging`, not `production`"}
    )  # fmt: skip
    assert evaluate(home, made["token"], "banner").status_code == 200
    revoked = shipyard("flags", "token", "revoke", made["id"], "--env", "staging", cwd=project,
                       home=home)  # fmt: skip
    assert revoked.returncode == 0, revoked.stderr
    deadline = time.monotonic() + 5
    while evaluate(home, made["token"], "banner").status_code != 401:
        assert time.monotonic() < deadline, "a revoked token still evaluates"
        time.sleep(0.1)
    listed = shipyard("flags", "token", "list", "--env", "staging", cwd=project, home=home)
    assert f"{made['id']}  revoked  tmp" in listed.stdout


def test_the_in_process_provider_polls_the_server(home: Path, project: Path, token: str) -> None:
    provider = ShipyardProvider(url=server_info(home).url, token=token, environment="staging",
                                interval=0.1)  # fmt: skip
    domain = f"poll-{uuid.uuid4().hex}"
    changed = threading.Event()
    seen: list[EventDetails] = []
    client = api.get_client(domain)

    def on_change(details: EventDetails) -> None:
        seen.append(details)
        changed.set()

    client.add_handler(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, on_change)
    api.set_provider_and_wait(provider, domain)
    try:
        assert client.get_integer_value("retries", 0) in (2, 7)
        staff = EvaluationContext("u-1", {"email": "ann@example.com"})
        assert client.get_boolean_value("new-checkout", False, staff) is True
        done = shipyard("flags", "set-default", "banner", "hello", "--env", "staging", cwd=project,
                        home=home)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert changed.wait(10), "no PROVIDER_CONFIGURATION_CHANGED"
        assert seen[-1].flags_changed == ["banner"]
        assert client.get_string_value("banner", "x") == "Hello"
    finally:
        provider.shutdown()


def test_the_flag_token_paths_open_nothing_else(home: Path, token: str) -> None:
    import socket

    info = server_info(home)
    for path in ("/ofrep/../api/v1/status", "/flags/v1/../../api/v1/environments",
                 "/ofrep/%2e%2e/api/v1/status"):  # fmt: skip
        with socket.create_connection((info.host, info.port), timeout=30) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        status = int(answer.split(b" ", 2)[1])
        assert status in (401, 404, 405), (path, answer[:200])
    configuration = httpx.get(f"{info.url}/ofrep/v1/configuration",
                              headers={"Authorization": f"Bearer {token}"}, timeout=30)  # fmt: skip
    assert configuration.json()["capabilities"]["cacheInvalidation"]["polling"]["enabled"] is True
    assert httpx.get(f"{info.url}/ofrep/v1/configuration", timeout=30).status_code == 401


def test_a_deployed_service_reads_its_settings_from_the_environment(home: Path, token: str) -> None:
    provider = ShipyardProvider.from_environment(
        {"SHIPYARD_FLAGS_URL": server_info(home).url, "SHIPYARD_FLAGS_TOKEN": token,
         "SHIPYARD_ENVIRONMENT": "staging"}
    )  # fmt: skip
    domain = f"env-{uuid.uuid4().hex}"
    api.set_provider_and_wait(provider, domain)
    try:
        assert api.get_client(domain).get_object_value("limits", {}) == {"rpm": 60}
    finally:
        provider.shutdown()
