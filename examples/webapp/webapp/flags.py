"""One feature flag read over OFREP, the OpenFeature Remote Evaluation Protocol.

The app asks its flag service (``OFREP_ENDPOINT``, e.g. the Shipyard server that deployed it,
with the flag token in ``OFREP_HEADERS``) for the banner text: ``POST
/ofrep/v1/evaluate/flags/{key}`` with the visitor as the targeting key. Any failure (no endpoint,
the service unreachable, a refusal) gives the default text with the reason, so a flag service
outage never breaks a page. Standard library only.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from webapp import settings

TIMEOUT_SECONDS = 2.0


def evaluate_string(
    config: settings.Settings, default: str, targeting_key: str | None
) -> dict[str, Any]:
    """``{key, value, reason, variant?, errorCode?}`` for the banner flag."""
    key = config.banner_flag
    if config.ofrep_endpoint is None:
        return {"key": key, "value": default, "reason": "ERROR", "errorCode": "PROVIDER_NOT_READY"}
    context = {"targetingKey": targeting_key} if targeting_key else {}
    request = urllib.request.Request(
        f"{config.ofrep_endpoint}/ofrep/v1/evaluate/flags/{urllib.parse.quote(key, safe='')}",
        data=json.dumps({"context": context}).encode(),
        headers={"Content-Type": "application/json", **dict(config.ofrep_headers)},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
            body = json.loads(answer.read())
    except urllib.error.HTTPError as error:
        code = _error_code(error)
        return {"key": key, "value": default, "reason": "ERROR", "errorCode": code}
    except (OSError, ValueError):
        return {"key": key, "value": default, "reason": "ERROR", "errorCode": "GENERAL"}
    value = body.get("value", default)
    if not isinstance(value, str):
        return {"key": key, "value": default, "reason": "ERROR", "errorCode": "TYPE_MISMATCH"}
    found = {"key": key, "value": value, "reason": body.get("reason", "UNKNOWN")}
    if "variant" in body:
        found["variant"] = body["variant"]
    return found


def _error_code(error: urllib.error.HTTPError) -> str:
    try:
        code = json.loads(error.read()).get("errorCode")
    except (OSError, ValueError, AttributeError):
        code = None
    return str(code) if code else ("UNAUTHORIZED" if error.code in (401, 403) else "GENERAL")
