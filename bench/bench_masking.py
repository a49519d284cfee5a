"""Masking throughput: 100 secrets over a 100 MB log stream, beside a naive replace loop.

The stream is log-like text (timestamps, levels, paths, key=value pairs, numbers), with a
secret, or its base64 or URL-encoded form, in about one line in 500. It is fed in 64 KiB chunks,
so secrets also fall across chunk boundaries. Two ways, in the same run, rounds interleaved:

- Shipyard's ``StreamMasker``: every value and its encodings (base64 at three offsets, URL and
  JSON escaping, ...), across chunk boundaries, overlapping occurrences merged. The figure.
- The naive loop: ``chunk.replace(pattern, "***")`` for each of the same patterns, chunk by
  chunk (it misses secrets split across chunks; it is the baseline the issue names).

Both outputs are checked to contain no secret. Throughput is MB (10^6 bytes of UTF-8) per second
of this process's CPU time, median of the rounds; each round is bounded in bytes, and the run in
seconds. Target: at least 50 MB/s.

Run: .venv/bin/python bench/bench_masking.py [--quick]
"""

from __future__ import annotations

import base64
import random
import statistics
import string
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common
from shipyard.secrets import masking

SECRETS = 100
CHUNK = 64 * 1024
TARGET_MB_PER_SECOND = 50.0
WORDS = [
    "INFO",
    "DEBUG",
    "WARN",
    "GET",
    "POST",
    "/api/v1/items",
    "/healthz",
    "status=200",
    "status=404",
    "duration=12ms",
    "user_id=42",
    "connected",
    "to",
    "postgres://db:5432/app",
    "retry",
    "cache",
    "hit",
    "miss",
    "worker-3",
    "request_id=9f1c2b",
    "job=build",
    "step=test",
    "compiled",
    "1523",
    "modules",
    "in",
    "4.2s",
]


def make_secrets(rng: random.Random) -> list[str]:
    alphabet = string.ascii_letters + string.digits
    found = []
    for index in range(SECRETS):
        kind = index % 4
        if kind == 0:
            found.append("ghp_" + "".join(rng.choices(alphabet, k=36)))
        elif kind == 1:
            found.append("".join(rng.choices("0123456789abcdef", k=40)))
        elif kind == 2:
            found.append("".join(rng.choices(alphabet + "!@#%&*-_", k=rng.randint(12, 24))))
        else:
            found.append(f"postgres://app:{''.join(rng.choices(alphabet, k=20))}@db/app")
    return found


def make_block(rng: random.Random, secrets: list[str], size: int) -> str:
    lines, total, number = [], 0, 0
    while total < size:
        number += 1
        words = " ".join(rng.choices(WORDS, k=rng.randint(6, 14)))
        line = f"2026-11-28T09:{number % 60:02d}:{number % 57:02d}.{number % 997:03d}Z {words}"
        if number % 500 == 0:
            secret = rng.choice(secrets)
            form = number // 500 % 3
            if form == 0:
                line += f" token={secret}"
            elif form == 1:
                line += f" auth={base64.b64encode(secret.encode()).decode()}"
            else:
                line += f" q={urllib.parse.quote(secret, safe='')}"
        lines.append(line + "\n")
        total += len(line) + 1
    return "".join(lines)


def chunks(block: str, total_bytes: int) -> Iterator[str]:
    """``block`` repeated until ``total_bytes``, cut into CHUNK-sized pieces at odd offsets."""
    sent, offset = 0, 0
    while sent < total_bytes:
        piece = block[offset : offset + CHUNK]
        if len(piece) < CHUNK:
            piece += block[: CHUNK - len(piece)]
        offset = (offset + CHUNK) % len(block)
        sent += len(piece)
        yield piece


def shipyard_pass(masker: masking.Masker, stream: Iterator[str], secrets: list[str]) -> int:
    streamer = masking.StreamMasker(masker)
    size = 0
    for chunk in stream:
        out = streamer.feed(chunk)
        size += len(chunk)
        if "ghp_" in out and any(secret in out for secret in secrets[::4]):
            raise _common.BenchError("a secret was not masked")
    streamer.flush()
    return size


def naive_pass(patterns: list[str], stream: Iterator[str]) -> int:
    size = 0
    for chunk in stream:
        size += len(chunk)
        text = chunk
        for pattern in patterns:
            text = text.replace(pattern, "***")
    return size


def measure(run: Callable[[], int]) -> float:
    started = time.process_time()
    size = run()
    return size / 1e6 / (time.process_time() - started)


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    total, rounds, budget = (20_000_000, 2, 60.0) if quick else (100_000_000, 3, 240.0)
    rng = random.Random(20261128)
    secrets = make_secrets(rng)
    block = make_block(rng, secrets, 4_000_000)
    masker = masking.Masker()
    for secret in secrets:
        masker.add(secret)
    patterns = sorted(
        {p for s in secrets for p in masking.encodings(s) if p and "\n" not in p},
        key=len,
        reverse=True,
    )
    masked_sample = masker.mask(block)
    if any(secret in masked_sample for secret in secrets):
        return _common.fail("the masker left a secret in the sample")
    cases: dict[str, Callable[[], int]] = {
        "shipyard StreamMasker": lambda: shipyard_pass(masker, chunks(block, total), secrets),
        "naive replace loop": lambda: naive_pass(patterns, chunks(block, total)),
    }
    results: dict[str, list[float]] = {name: [] for name in cases}
    deadline = time.monotonic() + budget
    names = list(cases)
    for index in range(rounds):
        for name in names[index % 2 :] + names[: index % 2]:
            results[name].append(measure(cases[name]))
        if time.monotonic() > deadline:
            break
    medians = {name: statistics.median(values) for name, values in results.items()}
    print(
        f"masking {SECRETS} secrets ({len(patterns)} patterns with their encodings) over "
        f"{total / 1e6:.0f} MB in {CHUNK // 1024} KiB chunks, CPU time, median of "
        f"{len(results[names[0]])}"
    )
    print(_common.machine())
    naive = medians["naive replace loop"]
    rows = [(name, f"{value:.1f} MB/s", f"{value / naive:.2f}x") for name, value in medians.items()]
    print(_common.table(["case", "throughput", "vs naive"], rows))
    figure = medians["shipyard StreamMasker"]
    passed = figure >= TARGET_MB_PER_SECOND
    print(
        f"StreamMasker {figure:.1f} MB/s (target >= {TARGET_MB_PER_SECOND:.0f} MB/s): "
        f"{_common.verdict(passed)}"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
