"""What the security benchmarks share: the competitors' venv, the scanned tree, the corpus.

The competitors are installed at exact versions into their own venv under bench/.tools/ (never
into Shipyard's): detect-secrets and pip-audit. The scanned tree is a copy of part of this
venv's site-packages — real, third-party source of every kind — with a ``requirements.txt``
pinning every installed distribution, so that every scanner has real work. Nothing here opens a
socket: the competitors run with their proxy variables pointed at a closed loopback port, so a
tool that would reach the network fails instead of leaving the machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import _common as common

DETECT_SECRETS_VERSION = "1.5.0"
PIP_AUDIT_VERSION = "2.10.1"
VENV = common.TOOLS / "security-venv"
SITE_PACKAGES = Path(next(p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()))
_TEXT_SUFFIXES = (".py", ".pyi", ".txt", ".md", ".rst", ".cfg", ".toml", ".json", ".yaml", ".yml",
                  ".ini", ".js", ".html", ".sh")  # fmt: skip
CLOSED_PORT_PROXY = "http://127.0.0.1:9"
"""A loopback address nothing listens on: a tool that tries the network fails at once."""


def tool(name: str) -> Path:
    """An executable of the competitors' venv, created and filled on first use."""
    binary = VENV / "bin" / name
    wanted = {"detect-secrets": DETECT_SECRETS_VERSION, "pip-audit": PIP_AUDIT_VERSION}
    if binary.exists() and _installed(name) == wanted[name]:
        return binary
    print(f"installing detect-secrets {DETECT_SECRETS_VERSION} and pip-audit "
          f"{PIP_AUDIT_VERSION} into {VENV} ...")  # fmt: skip
    if not (VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, timeout=300)
    done = subprocess.run(
        [str(VENV / "bin" / "pip"), "install", "--quiet",
         f"detect-secrets=={DETECT_SECRETS_VERSION}", f"pip-audit=={PIP_AUDIT_VERSION}"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise common.BenchError(f"cannot install the competitors:\n{done.stderr[-2000:]}")
    return binary


def _installed(name: str) -> str:
    done = subprocess.run(
        [str(VENV / "bin" / "python"), "-c",
         f"import importlib.metadata as m; print(m.version({name!r}))"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return done.stdout.strip()


def offline_env() -> dict[str, str]:
    """The environment of a competitor: no way off the machine."""
    env = dict(os.environ)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        env[name] = CLOSED_PORT_PROXY
    env["NO_PROXY"] = env["no_proxy"] = ""
    return env


def copy_site_packages(target: Path, megabytes: float) -> int:
    """Copy whole top-level packages of site-packages (sorted by name, skipping those over a
    fifth of the budget) until ``megabytes`` of text files are copied; the bytes copied."""
    budget = int(megabytes * 1024 * 1024)
    copied = 0
    target.mkdir(parents=True, exist_ok=True)
    for entry in sorted(SITE_PACKAGES.iterdir(), key=lambda p: p.name.lower()):
        if not entry.is_dir() or entry.name.endswith((".dist-info", "__pycache__")):
            continue
        size = text_bytes(entry)
        if size == 0 or size > budget // 5 or copied + size > budget:
            continue
        shutil.copytree(entry, target / entry.name, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyc"))  # fmt: skip
        copied += size
        if copied >= budget * 0.95:
            break
    pins = sorted(f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions())
    (target / "requirements.txt").write_text("\n".join(pins) + "\n", encoding="utf-8")
    return copied


def text_bytes(root: Path) -> int:
    """The bytes of the text files (by suffix) under ``root``."""
    total = 0
    for directory, _, names in os.walk(root):
        for name in names:
            if name.endswith(_TEXT_SUFFIXES):
                path = Path(directory) / name
                if not path.is_symlink():
                    total += path.stat().st_size
    return total


def tree_bytes(root: Path) -> int:
    """The bytes of every regular file under ``root`` (what a scanner of the tree may read)."""
    total = 0
    for directory, _, names in os.walk(root):
        for name in names:
            path = Path(directory) / name
            if path.is_file() and not path.is_symlink():
                total += path.stat().st_size
    return total
