"""``python -m shipyard.runtime.supervisor.logshim LOG MAX_BYTES KEEP BANNER``: an instance's log.

Runs beside each instance, in its process group, reading the instance's output from standard
input and appending it to LOG, which is rotated (LOG.1 ... LOG.KEEP) when it would grow past
MAX_BYTES. Because this process, not the server, holds the writing end, an instance keeps logging
while the server is down or restarting. It ignores SIGTERM and SIGINT (the instance's last words
still reach the file) and ends when the instance closes its output. Standard library only, so it
starts quickly; with secrets to hide (JSON in ``$SHIPYARD_LOG_MASK``, never on the command line)
it also loads Shipyard's masker, and no secret, nor its common encodings, reaches the file, even
split across two reads.
"""

from __future__ import annotations

import codecs
import json
import os
import signal
import sys
import time
from collections.abc import Callable

CHUNK = 64 * 1024
MASK_VARIABLE = "SHIPYARD_LOG_MASK"


def rotate(path: str, keep: int) -> None:
    """LOG -> LOG.1 -> LOG.2 ... the oldest beyond ``keep`` is dropped."""
    if keep <= 0:
        os.truncate(path, 0)
        return
    for index in range(keep - 1, 0, -1):
        older = f"{path}.{index}"
        if os.path.exists(older):
            os.replace(older, f"{path}.{index + 1}")
    os.replace(path, f"{path}.1")


def open_log(path: str) -> int:
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)


def masking_filter(values: list[str]) -> Callable[[bytes | None], bytes]:
    """Masks a byte stream chunk by chunk; ``None`` flushes what was held back at the end."""
    from shipyard.secrets import masking

    masker = masking.Masker()
    for value in values:
        masker.add(value)
    stream = masking.StreamMasker(masker)
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")

    def masked(chunk: bytes | None) -> bytes:
        if chunk is None:
            text = stream.feed(decoder.decode(b"", final=True)) + stream.flush()
        else:
            text = stream.feed(decoder.decode(chunk))
        return text.encode("utf-8", "surrogateescape")

    return masked


def pump(
    source: int,
    path: str,
    max_bytes: int,
    keep: int,
    banner: str,
    *,
    mask: Callable[[bytes | None], bytes] | None = None,
) -> None:
    descriptor = open_log(path)
    size = os.fstat(descriptor).st_size
    if banner:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime())
        line = f"--- {stamp} {banner}\n".encode()
        size += os.write(descriptor, line)
    while True:
        try:
            raw = os.read(source, CHUNK)
        except InterruptedError:  # pragma: no cover - PEP 475 retries
            continue
        # At the end (an empty read) the masker gives back what it held, then the loop ends.
        chunk = raw if mask is None else mask(raw or None)
        while chunk:
            room = max_bytes - size
            if len(chunk) <= room:
                size += os.write(descriptor, chunk)
                break
            # Whole lines that still fit go to this file; a line longer than a file is split.
            cut = chunk.rfind(b"\n", 0, max(room, 0)) + 1
            if cut == 0 and size == 0:
                cut = max_bytes
            if cut:
                os.write(descriptor, chunk[:cut])
                chunk = chunk[cut:]
            os.close(descriptor)
            rotate(path, keep)
            descriptor = open_log(path)
            size = 0
        if not raw:
            break
    os.close(descriptor)


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    path, max_bytes, keep, banner = argv[0], int(argv[1]), int(argv[2]), argv[3]
    hidden = json.loads(os.environ.pop(MASK_VARIABLE, "") or "[]")
    pump(0, path, max_bytes, keep, banner, mask=masking_filter(hidden) if hidden else None)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
