"""The supervisor with real processes (the example app), real sockets and a real store."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from shipyard.runtime.supervisor import instance, processes, supervisor
from shipyard.store import database, records
from tests.runtime.supervisor.conftest import run

WEB = """\
app: webapp
services:
  web:
    run: exec python -m webapp
    http: { health: /healthz }
    readiness: { http: /readyz, interval: 100ms, start_period: 10s }
    replicas: 2
    stop_grace: 3s
    env: { WEBAPP_DRAIN_SECONDS: 1 }
config:
  WEBAPP_VERSION: from-config
environments:
  staging:
    port: 8081
    config: { WEBAPP_VERSION: from-staging }
"""

Workloads = Callable[..., supervisor.Workload]


def get(port: int, path: str = "/version") -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


async def until(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def gone(pid: int) -> bool:
    return processes.start_ticks(pid) is None


def test_up_runs_replicas_with_their_port_config_and_records(
    workload: Workloads, store: database.Store, tmp_path: Path
) -> None:
    wanted = workload(WEB)

    async def scenario(running: supervisor.Supervisor) -> None:
        await running.up(wanted)
        found = running.instances("staging")
        assert [item.spec.name for item in found] == ["web.1", "web.2"]
        assert len({item.spec.port for item in found}) == 2
        for item in found:
            assert item.status.state == instance.State.READY
            status, body = get(item.spec.port)
            assert (status, body["version"]) == (200, "from-staging")
            assert item.status.pgid == item.status.pid  # its own process group
            assert os.getsid(item.status.pid or 0) == item.status.pid  # and session
        await running.flush()
        saved = records.list_instances(store, "staging")
        assert [(r.service, r.slot, r.state, r.release_id) for r in saved] == [
            ("web", 1, "ready", "r1"),
            ("web", 2, "ready", "r1"),
        ]
        assert [(r.pid, r.port) for r in saved] == [(i.status.pid, i.spec.port) for i in found]
        assert all(processes.is_running(r.pid or 0, r.start_ticks) for r in saved)
        pids = [item.status.pid or 0 for item in found]
        await running.down("staging")
        assert all(gone(pid) for pid in pids)
        await running.flush()
        assert records.list_instances(store) == []

    run(scenario, store, tmp_path / "home")


def test_a_killed_instance_is_restarted_and_logs_follow_the_slot(
    workload: Workloads, store: database.Store, tmp_path: Path
) -> None:
    wanted = workload(WEB.replace("replicas: 2", "replicas: 1"))

    async def scenario(running: supervisor.Supervisor) -> None:
        await running.up(wanted)
        (item,) = running.instances()
        first = item.status.pid or 0
        os.kill(first, signal.SIGKILL)
        await until(lambda: item.status.restarts == 1 and item.ready)
        assert item.status.pid != first
        assert get(item.spec.port)[0] == 200
        log = item.spec.log_path.read_text()
        assert log.count("--- ") >= 3
        assert "killed by signal 9; restarting in 0.05 s" in log
        assert "(restart 1)" in log
        await running.flush()
        (saved,) = records.list_instances(store)
        assert (saved.restarts, saved.pid) == (1, item.status.pid)

    run(scenario, store, tmp_path / "home")


def test_an_app_that_crashes_on_start_fails_up_and_leaves_nothing(
    workload: Workloads, store: database.Store, tmp_path: Path
) -> None:
    wanted = workload(WEB.replace("WEBAPP_DRAIN_SECONDS: 1", "WEBAPP_CRASH_ON_START: 1"))

    async def scenario(running: supervisor.Supervisor) -> None:
        with pytest.raises(supervisor.SupervisorError) as caught:
            await running.up(wanted)
        message = caught.value.message
        assert message.startswith("release r1 did not start in staging: instance web.")
        assert "it keeps exiting before it is ready (exited with status 1)" in message
        assert "WEBAPP_CRASH_ON_START" in (caught.value.hint or "")
        assert running.instances() == []
        await running.flush()
        assert records.list_instances(store) == []

    run(scenario, store, tmp_path / "home")


def test_an_app_that_never_becomes_ready_fails_up_with_the_reason(
    workload: Workloads, store: database.Store, tmp_path: Path
) -> None:
    text = WEB.replace("WEBAPP_DRAIN_SECONDS: 1", "WEBAPP_UNHEALTHY: 1").replace(
        "start_period: 10s", "start_period: 2500ms"
    )
    wanted = workload(text)

    async def scenario(running: supervisor.Supervisor) -> None:
        with pytest.raises(supervisor.SupervisorError) as caught:
            await running.up(wanted)
        assert caught.value.message.endswith("it did not become ready: GET /readyz answered 503")
        assert running.instances() == []

    run(scenario, store, tmp_path / "home")


def test_a_failed_release_leaves_the_running_one_serving(
    workload: Workloads, store: database.Store, tmp_path: Path
) -> None:
    good = workload(WEB.replace("replicas: 2", "replicas: 1"), release="r1")
    bad = workload(WEB.replace("WEBAPP_DRAIN_SECONDS: 1", "WEBAPP_CRASH_ON_START: 1"), release="r2")
    newer = workload(WEB.replace("from-staging", "v3"), release="r3")

    async def scenario(running: supervisor.Supervisor) -> None:
        await running.up(good)
        (old,) = running.instances()
        with pytest.raises(supervisor.SupervisorError):
            await running.up(bad)
        assert running.instances() == [old] and old.ready
        await running.up(newer)
        assert gone(old.status.pid or 0) or old.status.pid is None
        assert [i.spec.release_id for i in running.instances()] == ["r3", "r3"]
        assert get(running.instances()[0].spec.port)[1]["version"] == "v3"

    run(scenario, store, tmp_path / "home")


def test_stop_sends_sigterm_then_sigkill_to_the_whole_group(
    workload: Workloads, store: database.Store, tmp_path: Path
) -> None:
    stubborn = """\
app: stubborn
services:
  worker:
    run: trap '' TERM; sleep 300 & sleep 300 & while true; do sleep 0.05; done
    stop_grace: 300ms
environments: { staging: }
"""
    wanted = workload(stubborn)

    async def scenario(running: supervisor.Supervisor) -> None:
        await running.up(wanted)
        (item,) = running.instances()
        pgid = item.status.pgid or 0
        await asyncio.sleep(0.2)
        started = time.monotonic()
        await running.down("staging")
        assert 0.25 < time.monotonic() - started < 3
        assert not processes.group_alive(pgid)

    run(scenario, store, tmp_path / "home")


def test_liveness_failures_restart_an_instance(
    workload: Workloads, store: database.Store, tmp_path: Path
) -> None:
    marker = tmp_path / "sick"
    text = f"""\
app: probed
services:
  worker:
    run: exec sleep 300
    readiness: {{ command: "true", interval: 50ms }}
    liveness: {{ command: "test ! -e {marker}", interval: 50ms, failure_threshold: 2 }}
    stop_grace: 1s
environments: {{ staging: }}
"""
    wanted = workload(text)

    async def scenario(running: supervisor.Supervisor) -> None:
        await running.up(wanted)
        (item,) = running.instances()
        first = item.status.pid
        marker.write_text("")
        await until(lambda: item.status.restarts >= 1)
        marker.unlink()
        await until(lambda: item.ready and item.status.pid != first)
        log = item.spec.log_path.read_text()
        assert "failed its liveness check 2 times: the check exited with status 1" in log

    run(scenario, store, tmp_path / "home")


def test_a_restarted_server_adopts_running_instances_and_restarts_dead_ones(
    workload: Workloads, store: database.Store, tmp_path: Path
) -> None:
    wanted = workload(WEB)
    home = tmp_path / "home"
    before: dict[str, int] = {}

    async def first_life(running: supervisor.Supervisor) -> None:
        await running.up(wanted)
        before.update({i.spec.name: i.status.pid or 0 for i in running.instances()})
        await running.flush()
        # An abrupt end: the server forgets its instances without stopping them.
        await running.close(stop_instances=False)
        running.start()

    run(first_life, store, home)
    assert all(processes.start_ticks(pid) is not None for pid in before.values())
    os.kill(before["web.2"], signal.SIGKILL)

    async def second_life(running: supervisor.Supervisor) -> None:
        deadline = time.monotonic() + 5
        while processes.start_ticks(before["web.2"]) is not None:  # reaped by init
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        await running.restore(wanted, records.list_instances(store, "staging"))
        found = {i.spec.name: i for i in running.instances()}
        await until(lambda: all(i.ready for i in found.values()))
        assert found["web.1"].status.pid == before["web.1"]  # adopted
        assert found["web.2"].status.pid != before["web.2"]  # started again
        # An adopted instance that dies is restarted too (watched through its pidfd).
        os.kill(before["web.1"], signal.SIGKILL)
        await until(lambda: found["web.1"].status.pid != before["web.1"] and found["web.1"].ready)
        await running.down("staging")

    run(second_life, store, home)


def test_the_log_writer_rotates_by_size(tmp_path: Path) -> None:
    import subprocess
    import sys

    log = tmp_path / "web.1.log"
    line = b"x" * 99 + b"\n"
    subprocess.run(
        [sys.executable, "-m", "shipyard.runtime.supervisor.logshim", str(log), "1000", "2", "hi"],
        input=line * 35,
        check=True,
        timeout=30,
    )
    sizes = [p.stat().st_size for p in (log, Path(f"{log}.1"), Path(f"{log}.2"))]
    assert all(size <= 1000 for size in sizes)
    assert not Path(f"{log}.3").exists()
    assert log.read_bytes().endswith(line)
    assert Path(f"{log}.2").read_bytes().startswith(b"x")  # the banner rotated away
