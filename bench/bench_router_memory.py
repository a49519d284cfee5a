"""Memory of the router holding 1,000 idle keep-alive client connections, beside its memory
holding none (and HAProxy's, measured the same way, for scale).

Each client connection (a small asyncio client in this process) makes one request through the
router to nginx and then stays open, idle. RSS is read from /proc for the router's parent and
its worker (and for HAProxy's process) once the connections are all open and quiet. Traffic
stays on 127.0.0.1. The figure is the median of a few repetitions, each bounded in time.

Run: .venv/bin/python bench/bench_router_memory.py [--quick]
"""

from __future__ import annotations

import asyncio
import functools
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import bench_router_throughput as common

CONNECTIONS = 1000
REQUEST = b"GET /index.html HTTP/1.1\r\nHost: bench\r\n\r\n"


async def open_idle(port: int, count: int) -> list[asyncio.StreamWriter]:
    """``count`` connections, each after one complete request and response (bounded: 60 s)."""
    writers = []
    async with asyncio.timeout(60):
        for _ in range(count):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(REQUEST)
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200"), head
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            writers.append(writer)
    return writers


def rss_of(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total


def measure(port: int, rss: Callable[[], int]) -> tuple[int, int]:
    """RSS with no client connection, then with CONNECTIONS idle ones."""

    async def run() -> tuple[int, int]:
        await asyncio.sleep(0.5)
        before = rss()
        writers = await open_idle(port, CONNECTIONS)
        await asyncio.sleep(1.0)  # let the router settle (pooled upstream connections idle)
        during = rss()
        for writer in writers:
            writer.close()
        await asyncio.sleep(0.5)
        return before, during

    return asyncio.run(run())


def main(argv: list[str]) -> int:
    repetitions = 1 if "--quick" in argv else 3
    common.exit_on_sigterm()
    common.ensure_tools("nginx", "haproxy")
    print(f"Router memory at {CONNECTIONS} idle keep-alive connections (RSS, parent + worker)")
    print(common.machine())
    print(f"a fresh process per measurement; median of {repetitions}\n")
    router_runs: list[tuple[int, int]] = []
    haproxy_runs: list[tuple[int, int]] = []
    with tempfile.TemporaryDirectory(prefix="bench-router-") as tmp:
        workdir = Path(tmp)
        with common.nginx(workdir) as backend:
            for _ in range(repetitions):
                with common.router(workdir, backend, 1, None) as router:
                    pids = [router.process.pid, *router.worker_pids()]
                    router_runs.append(measure(router.port, functools.partial(rss_of, pids)))
                with common.haproxy(workdir, backend, 1, None) as haproxy:
                    haproxy_pids = [haproxy.pid]
                    haproxy_runs.append(
                        measure(haproxy.port, functools.partial(rss_of, haproxy_pids))
                    )
    mib = 1024 * 1024
    for name, runs in (("router (1 worker)", router_runs), ("HAProxy (1 thread)", haproxy_runs)):
        before = statistics.median(b for b, _ in runs)
        during = statistics.median(d for _, d in runs)
        per = (during - before) / CONNECTIONS
        print(
            f"  {name:<20} {before / mib:7.1f} MiB at 0 connections, "
            f"{during / mib:7.1f} MiB at {CONNECTIONS}: +{(during - before) / mib:.1f} MiB "
            f"({per / 1024:.1f} KiB per connection)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
