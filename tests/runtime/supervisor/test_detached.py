"""Processes a supervisor leaves running on purpose are not reported as leaked at exit."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import os, subprocess
from shipyard.runtime.supervisor import instance

# A supervisor detaches from a running process (the server going away abruptly) ...
process = subprocess.Popen(["sleep", "30"])
instance._detached.append(process)
# ... and a later one in the same process stops and reaps it, by its pid, as on adoption.
os.kill(process.pid, 9)
os.waitpid(process.pid, 0)
print("reaped")
"""


def test_a_detached_process_reaped_by_pid_is_not_reported_at_exit() -> None:
    done = subprocess.run(
        [sys.executable, "-W", "always::ResourceWarning", "-c", PROBE],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout == "reaped\n"
    assert "ResourceWarning" not in done.stderr, done.stderr
