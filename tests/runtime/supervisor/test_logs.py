"""Reading instance logs back: tails, and following across restarts and rotation."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from shipyard.runtime.supervisor import logs


def write(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)


def test_tails_by_service_and_slot(tmp_path: Path) -> None:
    folder = tmp_path / "instances" / "staging"
    folder.mkdir(parents=True)
    write(folder / "web.2.log", "b1\nb2\n")
    write(folder / "web.1.log", "a1\na2\na3\n")
    write(folder / "worker.1.log", "w1\n")
    write(folder / "web.1.log.1", "old\n")

    async def collect(service: str | None) -> list[str]:
        return [line async for line in logs.read_logs(tmp_path, "staging", service, tail=2)]

    assert asyncio.run(collect("web")) == [
        "web.1 | a2\n",
        "web.1 | a3\n",
        "web.2 | b1\n",
        "web.2 | b2\n",
    ]
    assert asyncio.run(collect(None))[-1] == "worker.1 | w1\n"
    assert asyncio.run(collect("nothing")) == []


def test_follow_sees_new_lines_new_instances_and_rotation(tmp_path: Path) -> None:
    folder = tmp_path / "instances" / "staging"
    folder.mkdir(parents=True)
    log = folder / "web.1.log"
    write(log, "before\n")

    async def scenario() -> list[str]:
        seen: list[str] = []

        async def follow() -> None:
            async for line in logs.read_logs(tmp_path, "staging", tail=0, follow=True):
                seen.append(line)

        task = asyncio.get_running_loop().create_task(follow())
        await asyncio.sleep(0.3)
        write(log, "one\npart")
        await asyncio.sleep(0.3)
        write(log, "ial\n")
        os.replace(log, f"{log}.1")  # rotated, as the log writer does
        write(Path(f"{log}.1"), "last of old\n")
        write(log, "fresh\n")
        write(folder / "web.2.log", "second instance\n")
        await asyncio.sleep(0.5)
        task.cancel()
        return seen

    assert asyncio.run(scenario()) == [
        "web.1 | one\n",
        "web.1 | partial\n",
        "web.1 | last of old\n",
        "web.1 | fresh\n",
        "web.2 | second instance\n",
    ]
