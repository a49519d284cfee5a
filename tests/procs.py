"""Looking for processes in /proc, for tests that prove nothing was left running."""

from __future__ import annotations

import os


def processes_with(text: str) -> list[int]:
    """The ids of the processes whose command line contains ``text``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                if text.encode() in handle.read():
                    found.append(int(entry))
        except OSError:
            continue
    return found
