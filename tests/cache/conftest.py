"""Fixtures for the cache store's tests: a store in a temporary directory, files made for real."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shipyard.cache import store

_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE = 1
_CAP_DAC_READ_SEARCH = 2


@pytest.fixture
def blobs(tmp_path: Path) -> store.BlobStore:
    """A store that survives a killed process but skips flushing to disk (fast tests)."""
    return store.BlobStore(tmp_path / "store", durable=False)


def blob_files(root: Path) -> list[Path]:
    """Every blob file under a store root, sorted."""
    return sorted(path for path in (root / "blobs").rglob("*") if path.is_file())


def run_python(code: str, *, obey_permissions: bool = False) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter.

    With ``obey_permissions``, a child of root loses the capabilities that let root read any
    file, so a file of mode 000 is unreadable to it as it is to everybody else.
    """
    drop = _drop_root_reads if obey_permissions and os.geteuid() == 0 else None
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=drop,  # the test process starts no threads that could hold locks
        timeout=60,
    )


def _drop_root_reads() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")
