"""Files only their owner may read: key files, rendered scripts, secrets opened for editing."""

from __future__ import annotations

import os
from pathlib import Path


def create_private(path: Path, text: str) -> None:
    """Create ``path`` (mode 0600) holding ``text``; ``FileExistsError`` if it exists.

    The mode is set when the file is created, so the text is never readable by others, not
    even for a moment.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        data = memoryview(text.encode("utf-8"))
        while data:
            data = data[os.write(fd, data) :]
    finally:
        os.close(fd)
