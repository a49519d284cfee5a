"""Decrypting a secrets file of 1,000 values: Shipyard beside ``sops -d`` on the same file.

One SOPS file (age, 1,000 top-level values of 32 random characters) is written by Shipyard and
checked with ``sops``. Then, round after round (each round runs every case once, in a rotated
order), the same file is decrypted three ways:

- Shipyard in-process: read, parse, unwrap the data key with age, decrypt every value and verify
  the MAC (``shipyard.secrets.secret_files.read``): what a deploy or a run does. The figure.
- ``shipyard secrets list ENV``: the same as a command, process start-up included.
- ``sops -d``: the reference implementation, a Go binary, as a command.

Medians of wall time; every loop is bounded in rounds and in seconds. Target: the in-process
decryption at most 100 ms.

Run: .venv/bin/python bench/bench_secrets_decrypt.py [--quick]
"""

from __future__ import annotations

import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common
from shipyard.secrets import age_keys, secret_files, sops_metadata, sops_writer

VALUES = 1000
TARGET_SECONDS = 0.100
SOPS = Path(sys.executable).parent / "sops"


def _write_file(root: Path, key_file: Path) -> list[age_keys.Identity]:
    home = root.parent / "home"
    path, _ = age_keys.keygen(home, "bench")
    key_file.write_text(path.read_text())
    key_file.chmod(0o600)
    identities = age_keys.read_key_file(path)
    document = sops_writer.new_document(sops_metadata.EncryptionRules())
    for index in range(VALUES):
        document.tree[f"SECRET_{index:04d}"] = secrets.token_urlsafe(24)
    secret_files.save(root, "production", document, [identities[0].public])
    return identities


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    rounds, budget = (5, 20.0) if quick else (15, 90.0)
    if not SOPS.exists():
        return _common.fail(f"the sops binary is not installed beside {sys.executable}")
    with _common.scratch("secrets") as scratch:
        root = scratch / "repo"
        (root / ".git").mkdir(parents=True)
        key_file = scratch / "key.txt"
        identities = _write_file(root, key_file)
        relative = secret_files.relative_path("production")
        sops_env = {"PATH": os.environ.get("PATH", ""), "SOPS_AGE_KEY_FILE": str(key_file)}
        shipyard_env = {**os.environ, "SHIPYARD_HOME": str(scratch / "home")}

        def in_process() -> None:
            found = secret_files.read(root, "production", identities)
            assert found is not None and len(found.values) == VALUES

        def command(argv: list[str], env: dict[str, str]) -> Callable[[], None]:
            def run() -> None:
                done = subprocess.run(
                    argv, cwd=root, env=env, capture_output=True, timeout=60, check=False
                )
                if done.returncode != 0:
                    raise _common.BenchError(done.stderr.decode(errors="replace")[-500:])

            return run

        cases: dict[str, Callable[[], None]] = {
            "shipyard, in-process decrypt": in_process,
            "shipyard secrets list (process)": command(
                [*_common.shipyard_command(), "secrets", "list", "production"], shipyard_env
            ),
            "sops -d (process)": command([str(SOPS), "-d", relative], sops_env),
        }
        for call in cases.values():  # warm up, and check each one works
            call()
        samples: dict[str, list[float]] = {name: [] for name in cases}
        deadline = time.monotonic() + budget
        names = list(cases)
        for index in range(rounds):
            for name in names[index % len(names) :] + names[: index % len(names)]:
                samples[name].append(_timed(cases[name]))
            if time.monotonic() > deadline:
                break
    medians = {name: statistics.median(times) for name, times in samples.items()}
    count = len(samples[names[0]])
    print(f"decrypt a SOPS file of {VALUES:,} age-encrypted values, median of {count}")
    print(_common.machine())
    sops_time = medians["sops -d (process)"]
    rows = [
        (name, _common.seconds(value), f"{value / sops_time:.2f}x")
        for name, value in medians.items()
    ]
    print(_common.table(["case", "wall", "vs sops -d"], rows))
    figure = medians["shipyard, in-process decrypt"]
    passed = figure <= TARGET_SECONDS
    print(
        f"in-process decrypt {_common.seconds(figure)} (target <= "
        f"{_common.seconds(TARGET_SECONDS)}): {_common.verdict(passed)}"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
