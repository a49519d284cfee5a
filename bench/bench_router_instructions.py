"""The router's own work per request, in CPU instructions, beside a baseline revision's.

Requests/s and CPU time on this VM move by 10-15% from one minute to the next, so a change of a
few percent in the router's Python cannot be seen in them. Instructions can: valgrind's callgrind
counts them, the same count for the same code and input whatever else the machine does. This
program drives the router's client and instance protocols in one process (the code a worker runs
per request, without the event loop, the kernel or any socket: the transports are stand-ins that
keep what is written), and counts the instructions of N1 and N2 requests; the difference over
N2 - N1 is the cost of one request, start-up and imports cancelled out.

Cases: ``keep-alive`` (wrk's request, one header field, on one client connection), ``browser``
(a browser's request with 12 fields), and ``new-connection`` (each request on a connection of its
own, ``Connection: close``: the connection's set-up and close counted too). The response is
nginx's head for a 612-byte file with its body.

The baseline is a git revision (``--baseline REV``, default ``HEAD``: the last commit against
the working tree), its ``src/`` unpacked into bench/.tools/. Valgrind comes from Debian's
packages (installed when missing, as root). Nothing here opens a socket. There is no target:
the figure is recorded, and exits 0.

Run: .venv/bin/python bench/bench_router_instructions.py [--baseline REV]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common
import bench_router_throughput

CASES = ("keep-alive", "browser", "new-connection")
SHORT, LONG = 1000, 3000
"""Requests in the two counted runs of each case."""

WRK = b"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"
BROWSER = (
    b"GET /index.html HTTP/1.1\r\nHost: shop.example.com\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
    b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    b"Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n"
    b"Connection: keep-alive\r\nCookie: session=abcdef0123456789; theme=dark\r\n"
    b"Upgrade-Insecure-Requests: 1\r\nSec-Fetch-Dest: document\r\nSec-Fetch-Mode: navigate\r\n"
    b"Sec-Fetch-Site: none\r\nPriority: u=0, i\r\n\r\n"
)
CLOSE = b"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: close\r\n\r\n"
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sat, 28 Nov 2026 15:00:00 GMT\r\n"
    b"Content-Type: text/html\r\nContent-Length: 612\r\n"
    b"Last-Modified: Sat, 28 Nov 2026 15:00:00 GMT\r\nConnection: keep-alive\r\n"
    b'ETag: "6565a1c0-264"\r\nAccept-Ranges: bytes\r\n\r\n' + b"x" * 612
)


# The drive (run under valgrind, with the measured src/ first on sys.path) -------------------


class Transport:
    """Stands in for a socket transport: keeps the last write, notes a close."""

    def __init__(self) -> None:
        self.written = b""
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written = data

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("127.0.0.1", 40000) if name == "peername" else default

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def drive(case: str, requests: int) -> None:
    """Serve ``requests`` requests of ``case`` through the router's protocols."""
    from shipyard.runtime.router import proxy, routes, upstream, worker

    # The route as a worker compiles it from a table (one release, one instance).
    serving = worker.Worker(asyncio.new_event_loop())
    instance_address = "127.0.0.1:1"
    group = routes.UpstreamGroup("r1", 100, (routes.Instance(instance_address, "nginx"),))
    table = routes.RouteTable(1, (routes.Route("bench", "production", (group,), port=1),))
    ((listen, routing),) = serving._compile(table).items()
    listener = proxy.Listener(listen, routing)
    ctx = serving.context
    target = serving.upstreams[instance_address]
    instance = upstream.UpstreamConnection(target)
    instance.connection_made(Transport())  # type: ignore[arg-type]
    target.idle.append(instance)
    answer = instance.data_received
    if case == "new-connection":
        for _ in range(requests):
            client = proxy.ClientConnection(ctx, listener)
            transport = Transport()
            client.connection_made(transport)  # type: ignore[arg-type]
            client.data_received(CLOSE)
            answer(RESPONSE)
            client.connection_lost(None)
        assert transport.closed and b"Connection: close\r\n" in transport.written
        return
    request = BROWSER if case == "browser" else WRK
    client = proxy.ClientConnection(ctx, listener)
    transport = Transport()
    client.connection_made(transport)  # type: ignore[arg-type]
    ask = client.data_received
    for _ in range(requests):
        ask(request)
        answer(RESPONSE)
    assert transport.written.endswith(b"x" * 612) and not transport.closed


# Counting ------------------------------------------------------------------------------------


def instructions(tree: Path, case: str, requests: int) -> int:
    """Instructions valgrind counted for one drive (start-up included)."""
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONHASHSEED": "0"}
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        __file__,
        "--drive",
        case,
        str(requests),
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=900, check=False
    )
    found = re.search(r"Collected\s*:\s*([\d,]+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise _common.BenchError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def per_request(tree: Path, case: str, pool: ThreadPoolExecutor) -> float:
    short, long = pool.map(lambda n: instructions(tree, case, n), (SHORT, LONG))
    return (long - short) / (LONG - SHORT)


def baseline_tree(revision: str) -> tuple[Path, str]:
    os.environ[_common.REVISION_VARIABLE] = revision
    tree = _common.source_tree()
    assert tree is not None
    short = subprocess.run(
        ["git", "-C", str(_common.REPO), "rev-parse", "--short", revision],
        capture_output=True,
        text=True,
        check=True,
    )
    return tree, short.stdout.strip()


def main(argv: list[str]) -> int:
    if argv[:1] == ["--drive"]:
        drive(argv[1], int(argv[2]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="HEAD", help="git revision to compare with")
    args = parser.parse_args(argv)
    bench_router_throughput.ensure_tools("valgrind")
    base, base_name = baseline_tree(args.baseline)
    here = _common.REPO / "src"
    print("The router's instructions per request (callgrind, in-process drive, no sockets)")
    named = args.baseline if args.baseline == base_name else f"{args.baseline} ({base_name})"
    print(f"Python {sys.version.split()[0]}; the working tree against {named}")
    print(f"each figure: (instructions of {LONG} requests - of {SHORT}) / {LONG - SHORT}\n")
    print(f"  {'case':<16} {'baseline':>10} {'this tree':>10} {'ratio':>7}")
    with ThreadPoolExecutor(max_workers=2) as pool:
        for case in CASES:
            before = per_request(base, case, pool)
            after = per_request(here, case, pool)
            print(f"  {case:<16} {before:>10,.0f} {after:>10,.0f} {after / before:>6.3f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
