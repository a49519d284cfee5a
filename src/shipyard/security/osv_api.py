"""The OSV web API as an advisory source, for teams that configure it instead of a database.

One ``POST /v1/querybatch`` (in chunks of 1,000) asks which advisories concern each pinned
package, then ``GET /v1/vulns/{id}`` fetches each advisory once; the records fill a
``osv_db.Database`` so matching is exactly the offline matching. Any failure — the network, an
HTTP error, an answer that is not OSV — fails the scanner: a scan that could not ask never reports
"no vulnerabilities".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx

from shipyard.security import interface, osv_db

API_VARIABLE = "SHIPYARD_OSV_API"
_CHUNK = 1000


def fetch(
    base_url: str, packages: Iterable[tuple[str, str, str]], timeout: float = 60.0
) -> osv_db.Database:
    """The advisories of ``(ecosystem, name, version)`` packages, as a database."""
    base = base_url.rstrip("/")
    wanted = sorted(set(packages))
    database = osv_db.Database(source=base)
    database.ecosystems.update(ecosystem for ecosystem, _, _ in wanted)
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            ids: set[str] = set()
            for start in range(0, len(wanted), _CHUNK):
                queries = [
                    {"package": {"ecosystem": ecosystem, "name": name}, "version": version}
                    for ecosystem, name, version in wanted[start : start + _CHUNK]
                ]
                answer = _json(client.post(f"{base}/v1/querybatch", json={"queries": queries}))
                for result in answer.get("results") or ():
                    ids.update(str(vuln["id"]) for vuln in (result or {}).get("vulns") or ())
            for advisory_id in sorted(ids):
                record = _json(client.get(f"{base}/v1/vulns/{advisory_id}"))
                if "id" not in record:
                    raise interface.ScanError(
                        f"the OSV API at {base} sent no record for {advisory_id}"
                    )
                database.add(record)
    except httpx.HTTPError as error:
        raise interface.ScanError(
            f"the OSV API at {base} could not be asked: {error}",
            hint="check the network, or use an offline database (`shipyard scan db update`)",
        ) from error
    return database


def _json(response: httpx.Response) -> dict[str, Any]:
    if response.status_code != 200:
        raise interface.ScanError(
            f"the OSV API answered {response.request.method} {response.request.url.path} with "
            f"HTTP {response.status_code}"
        )
    try:
        data = response.json()
    except ValueError as error:
        raise interface.ScanError(
            f"the OSV API sent something that is not JSON: {error}"
        ) from error
    if not isinstance(data, dict):
        raise interface.ScanError("the OSV API sent JSON that is not an object")
    return data
