"""Fixtures shared by the whole suite."""

from __future__ import annotations

import random
import socket
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS = REPO_ROOT.parent / "shared" / "corpus"


def _ephemeral_low() -> int:
    """The first port of the range the kernel gives outgoing connections (Linux's default when
    it cannot be read)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as ports:
            return int(ports.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A loopback port nothing listens on now, for a test's server to bind a moment later.

    Taken below the ephemeral range when there is room: a port the kernel hands out for
    ``bind(0)`` is one it also hands to outgoing connections, so another test's clients (the
    suite runs in parallel) could take it first ("Address already in use").
    """
    low = _ephemeral_low()
    if low > 12000:
        for _ in range(200):
            port = random.randrange(10000, low)
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def shipyard_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private $SHIPYARD_HOME for one test."""
    home = tmp_path / "shipyard-home"
    home.mkdir()
    monkeypatch.setenv("SHIPYARD_HOME", str(home))
    return home
