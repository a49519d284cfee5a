"""Running a step's process: its output and status, and nothing left behind when cancelled."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import pytest

from shipyard.pipeline.run import process
from tests.procs import processes_with


def test_output_and_status_come_back(tmp_path: Path) -> None:
    lines: list[str] = []
    status = asyncio.run(
        process.run(
            ["sh", "-c", "echo one; echo two >&2; exit 3"],
            cwd=tmp_path,
            env={"PATH": os.environ["PATH"]},
            on_line=lines.append,
        )
    )
    assert status == 3
    assert sorted(lines) == ["one", "two"]


def test_a_missing_program_is_status_127(tmp_path: Path) -> None:
    lines: list[str] = []
    status = asyncio.run(
        process.run(
            ["no-such-program-here"], cwd=tmp_path, env={"PATH": "/nowhere"}, on_line=lines.append
        )
    )
    assert status == 127
    assert "command not found" in lines[0]


@pytest.mark.parametrize("delay", [0.0, 0.0005, 0.002])
def test_cancelled_while_starting_leaves_no_process(tmp_path: Path, delay: float) -> None:
    marker = f"shipyard-test-{uuid.uuid4().hex}"

    async def main() -> None:
        task = asyncio.ensure_future(
            process.run(
                ["sh", "-c", f"sleep 30 # {marker}"],
                cwd=tmp_path,
                env={"PATH": os.environ["PATH"]},
                on_line=lambda _: None,
            )
        )
        await asyncio.sleep(delay)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert processes_with(marker) == []
