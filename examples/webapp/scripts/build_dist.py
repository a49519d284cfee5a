"""Build the app's archive, ``dist/webapp-<version>.zip``, the same bytes from the same sources.

Standard library only, so CI needs no package index. The archive holds the ``webapp`` package
(sources, never bytecode) with README.md, pyproject.toml and requirements.txt, in sorted order,
with fixed timestamps and permissions: building twice gives the same SHA-256. Unpack it and run
``python -m webapp``, or put the zip itself on PYTHONPATH (Python imports from zips).

Usage: ``python scripts/build_dist.py [--out DIR]``. Prints ``key=value`` lines (version, name,
path, sha256, size) that a workflow step can append to ``$GITHUB_OUTPUT``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
import time
import zipfile
from pathlib import Path

APP_DIR = Path(__file__).resolve().parent.parent
EXTRA_FILES = ("README.md", "pyproject.toml", "requirements.txt")
# The earliest time a zip can record; SOURCE_DATE_EPOCH (the reproducible-builds convention)
# overrides it.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
ZIP_EPOCH_SECONDS = 315532800
_VERSION = re.compile(r'^__version__ = "([^"]+)"$', re.MULTILINE)


def package_version() -> str:
    """The version in webapp/__init__.py, read without importing the package."""
    match = _VERSION.search((APP_DIR / "webapp" / "__init__.py").read_text(encoding="utf-8"))
    if match is None:
        raise SystemExit("build_dist: no __version__ line in webapp/__init__.py")
    return match.group(1)


def archive_members() -> list[Path]:
    """The files to pack, relative to the app directory, sorted."""
    sources = [path.relative_to(APP_DIR) for path in (APP_DIR / "webapp").rglob("*.py")]
    missing = [name for name in EXTRA_FILES if not (APP_DIR / name).is_file()]
    if missing:
        raise SystemExit(f"build_dist: missing {', '.join(missing)} in {APP_DIR}")
    return sorted([*sources, *(Path(name) for name in EXTRA_FILES)])


def timestamp() -> tuple[int, int, int, int, int, int]:
    """The time recorded for every member."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    if not epoch:
        return ZIP_EPOCH
    if not epoch.isdigit():
        raise SystemExit(f"build_dist: SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds")
    year, month, day, hour, minute, second = time.gmtime(max(int(epoch), ZIP_EPOCH_SECONDS))[:6]
    return (year, month, day, hour, minute, second)


def build(out_dir: Path) -> Path:
    """Write the archive into ``out_dir`` and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    archive = out_dir / f"webapp-{package_version()}.zip"
    when = timestamp()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for member in archive_members():
            info = zipfile.ZipInfo(member.as_posix(), date_time=when)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, (APP_DIR / member).read_bytes())
    return archive


def main(argv: list[str] | None = None) -> int:
    """Build, then print the facts a workflow wants as outputs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=APP_DIR / "dist", help="output directory")
    args = parser.parse_args(argv)
    archive = build(args.out)
    data = archive.read_bytes()
    print(f"version={package_version()}")
    print(f"name={archive.name}")
    print(f"path={archive}")
    print(f"sha256={hashlib.sha256(data).hexdigest()}")
    print(f"size={len(data)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
