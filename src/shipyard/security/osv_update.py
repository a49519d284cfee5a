"""``shipyard scan db update``: fetch OSV's per-ecosystem exports into ``$SHIPYARD_HOME/osv``.

Each ecosystem's ``all.zip`` is streamed to a temporary file beside its destination, checked to be
a readable zip of records, and only then renamed over the previous copy: an interrupted or
corrupted download leaves the database as it was. This is the only part of the security scan
that uses the network, and only when asked.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

import httpx

from shipyard.core import errors
from shipyard.core.frozen import frozen

DEFAULT_BASE_URL = "https://osv-vulnerabilities.storage.googleapis.com"
BASE_URL_VARIABLE = "SHIPYARD_OSV_URL"
ECOSYSTEMS = ("PyPI", "npm")
MAX_BYTES = 2 * 1024 * 1024 * 1024


@frozen
class Updated:
    """One ecosystem's export, now on disk."""

    ecosystem: str
    path: Path
    records: int
    size: int


def base_url() -> str:
    return os.environ.get(BASE_URL_VARIABLE, DEFAULT_BASE_URL).rstrip("/")


def update(
    directory: Path, ecosystems: tuple[str, ...] = ECOSYSTEMS, timeout: float = 300.0
) -> list[Updated]:
    """Download every ecosystem's export into ``directory`` (``<ecosystem>.zip``)."""
    directory.mkdir(parents=True, exist_ok=True)
    done: list[Updated] = []
    with httpx.Client(timeout=timeout, follow_redirects=True) as client:
        for ecosystem in ecosystems:
            done.append(_fetch(client, ecosystem, directory / f"{ecosystem}.zip"))
    return done


def _fetch(client: httpx.Client, ecosystem: str, destination: Path) -> Updated:
    url = f"{base_url()}/{ecosystem}/all.zip"
    handle, temporary = tempfile.mkstemp(prefix=f".{destination.name}.", dir=destination.parent)
    try:
        size = 0
        with os.fdopen(handle, "wb") as stream, client.stream("GET", url) as response:
            if response.status_code != 200:
                raise errors.ExecutionError(
                    f"downloading {url} failed: HTTP {response.status_code}",
                    hint="check the network, or set SHIPYARD_OSV_URL to a mirror",
                )
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_BYTES:
                    raise errors.ExecutionError(f"{url} is larger than {MAX_BYTES} bytes")
                stream.write(chunk)
        try:
            with zipfile.ZipFile(temporary) as archive:
                broken = archive.testzip()
                records = sum(1 for name in archive.namelist() if name.endswith(".json"))
        except zipfile.BadZipFile as error:
            raise errors.ExecutionError(f"{url} is not a zip file: {error}") from error
        if broken is not None:
            raise errors.ExecutionError(f"{url}: {broken} is damaged in the download")
        os.replace(temporary, destination)
    except httpx.HTTPError as error:
        raise errors.ExecutionError(
            f"downloading {url} failed: {error}",
            hint="check the network, or set SHIPYARD_OSV_URL to a mirror",
        ) from error
    finally:
        Path(temporary).unlink(missing_ok=True)
    return Updated(ecosystem, destination, records, size)
