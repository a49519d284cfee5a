"""Temporary files: published whole or not at all; a dead writer's are cleaned, a live one's not."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

from shipyard.cache import tempfiles

WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from shipyard.cache import tempfiles
    temp = tempfiles.TempArea(Path(sys.argv[1])).create()
    temp.write(b"half a blob")
    print(temp.path, flush=True)
    sys.stdin.read()  # hold the file (and its lock) until told to stop
""")


def start_writer(directory: Path) -> tuple[subprocess.Popen[str], Path]:
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(directory)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    return writer, Path(writer.stdout.readline().strip())


def test_publish_makes_the_whole_file_appear_at_once(tmp_path: Path) -> None:
    area = tempfiles.TempArea(tmp_path / "tmp")
    destination = tmp_path / "deep" / "er" / "file.json"
    with area.create() as temp:
        temp.write(b'{"a": 1}')
        assert not destination.exists()
        temp.publish(destination, mode=0o640, durable=True)
    assert destination.read_bytes() == b'{"a": 1}'
    assert stat.S_IMODE(destination.stat().st_mode) == 0o640
    assert os.listdir(tmp_path / "tmp") == []


def test_a_discarded_file_leaves_nothing(tmp_path: Path) -> None:
    area = tempfiles.TempArea(tmp_path / "tmp")
    with area.create() as temp:
        temp.write(b"unfinished")
    assert os.listdir(tmp_path / "tmp") == []


def test_a_file_being_written_is_never_cleaned(tmp_path: Path) -> None:
    area = tempfiles.TempArea(tmp_path / "tmp")
    mine = area.create()
    writer, theirs = start_writer(tmp_path / "tmp")
    try:
        assert area.clean_stale() == 0
        assert mine.path.exists()
        assert theirs.exists()
    finally:
        writer.communicate("")
        mine.discard()
    assert writer.returncode == 0


def test_a_killed_writers_file_is_cleaned(tmp_path: Path) -> None:
    writer, path = start_writer(tmp_path / "tmp")
    writer.send_signal(signal.SIGKILL)
    writer.communicate()
    assert path.read_bytes() == b"half a blob"
    area = tempfiles.TempArea(tmp_path / "tmp")
    assert area.clean_stale() == 1
    assert not path.exists()
    assert area.clean_stale() == 0


def test_a_tree_is_discarded_in_one_step_and_a_stale_trash_cleaned(tmp_path: Path) -> None:
    area = tempfiles.TempArea(tmp_path / "tmp")
    tree = tmp_path / "entries"
    (tree / "deep").mkdir(parents=True)
    (tree / "deep" / "file").write_text("x")
    area.discard_tree(tree)
    assert not tree.exists()
    assert os.listdir(tmp_path / "tmp") == []
    area.discard_tree(tree)  # already gone: nothing to do
    leftover = tmp_path / "tmp" / "123-abc.trash"  # as a clear killed midway leaves it
    (leftover / "blobs").mkdir(parents=True)
    assert area.clean_stale() == 1
    assert os.listdir(tmp_path / "tmp") == []
