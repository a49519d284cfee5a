"""Flags over HTTP: OFREP for applications, admin routes for the CLI.

OFREP (the OpenFeature Remote Evaluation Protocol, https://github.com/open-feature/protocol):
``POST /ofrep/v1/evaluate/flags/{key}`` and ``POST /ofrep/v1/evaluate/flags`` (with ``ETag`` and
``If-None-Match``), answered as flagd answers them: a success is ``{key, value, reason, variant,
metadata}`` (``value`` and ``variant`` left out when the caller's default applies); a missing or
disabled flag is 404 ``FLAG_NOT_FOUND``; a rule that fails is 400 ``PARSE_ERROR`` or
``GENERAL``; a context that is not an object is 400 ``INVALID_CONTEXT``; the bulk answer skips
disabled flags. These routes take a read-only flag token (``Authorization: Bearer`` or
``X-API-Key``), never the admin token, and the token decides the environment.
``GET /flags/v1/environments/{env}/document`` gives an in-process provider the environment's
flags as one flagd document, with an ETag, so it evaluates locally.

The admin routes (``/api/v1/flags/...``) sit behind the server's token like the rest of the API.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from pydantic import BaseModel, Field

from shipyard.flags import definitions, evaluator
from shipyard.server import flag_service
from shipyard.store import database, flag_records

PUBLIC_PREFIXES = ("/ofrep/", "/flags/v1/")
"""Paths that take a flag token instead of the admin token."""
_log = logging.getLogger(__name__)
_JSON = "application/json"


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    content = json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
    return Response(content, status_code=status, media_type=_JSON, headers=headers)


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    key = request.headers.get("x-api-key", "").strip()
    return key or None


async def _context(request: Request) -> dict[str, Any] | None:
    """The request's evaluation context; None when the body is not an OFREP request."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(body, dict):
        return None
    context = body.get("context", {})
    if context is None:
        return {}
    return context if isinstance(context, dict) else None


def _success(resolution: evaluator.Resolution) -> dict[str, Any]:
    body: dict[str, Any] = {"key": resolution.key, "reason": resolution.reason}
    if resolution.variant is not None:
        body["value"] = resolution.value
        body["variant"] = resolution.variant
    body["metadata"] = dict(resolution.metadata)
    return body


def _failure(resolution: evaluator.Resolution) -> tuple[int, dict[str, Any]]:
    """flagd's mapping of an evaluation error to an OFREP status and body."""
    if resolution.reason == evaluator.DISABLED:
        details = f"flag `{resolution.key}` is disabled"
        return 404, {"key": resolution.key, "errorCode": "FLAG_NOT_FOUND", "errorDetails": details}
    code = resolution.error_code or evaluator.GENERAL
    status = 404 if code == evaluator.FLAG_NOT_FOUND else 400
    body: dict[str, Any] = {
        "key": resolution.key,
        "errorCode": code,
        "errorDetails": resolution.error_message,
    }
    if resolution.metadata:
        body["metadata"] = dict(resolution.metadata)
    return status, body


def _etag(content: bytes) -> str:
    return '"' + hashlib.sha256(content).hexdigest()[:32] + '"'


def _matches(request: Request, etag: str) -> bool:
    wanted = request.headers.get("if-none-match")
    if not wanted:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in wanted.split(",")]
    return "*" in tags or any(hmac.compare_digest(tag, etag) for tag in tags)


async def _environment_of(service: flag_service.FlagService, request: Request) -> str | Response:
    """The environment the request's flag token reads, or the refusal to send."""
    token = _token(request)
    if token is None:
        return _json(401, {"errorDetails": "missing flag token"})
    fresh, environment = service.fresh_token(token)
    try:
        if not fresh:
            environment = await flag_service.run(service.token_environment, token)
    except Exception:
        _log.exception("cannot check a flag token")
        return _json(500, {"errorDetails": "internal error"})
    if environment is None:
        return _json(401, {"errorDetails": "invalid flag token"})
    return environment


async def _served(
    service: flag_service.FlagService, environment: str
) -> flag_service.Served | Response | None:
    fresh, served = service.fresh_served(environment)
    try:
        if not fresh:
            served = await flag_service.run(service.served, environment)
    except Exception:
        _log.exception("cannot read the flags of %s", environment)
        return _json(500, {"errorDetails": "internal error"})
    return served


async def _flags_of(
    service: flag_service.FlagService, environment: str
) -> definitions.FlagSet | Response:
    served = await _served(service, environment)
    if isinstance(served, Response):
        return served
    return served.flags if served is not None else definitions.FlagSet()


def create_ofrep_router(service: flag_service.FlagService) -> APIRouter:
    """OFREP's evaluation routes."""
    router = APIRouter(tags=["flags (OFREP)"])

    async def environment_of(request: Request) -> str | Response:
        return await _environment_of(service, request)

    async def flags_of(environment: str) -> definitions.FlagSet | Response:
        return await _flags_of(service, environment)

    @router.post("/ofrep/v1/evaluate/flags/{key}")
    async def evaluate_flag(key: str, request: Request) -> Response:
        """OFREP single flag evaluation."""
        environment = await environment_of(request)
        if isinstance(environment, Response):
            return environment
        context = await _context(request)
        if context is None:
            details = "Provider context is not valid"
            return _json(400, {"key": key, "errorCode": "INVALID_CONTEXT", "errorDetails": details})
        flags = await flags_of(environment)
        if isinstance(flags, Response):
            return flags
        resolution = evaluator.evaluate(flags, key, context)
        if resolution.error_code is not None or resolution.reason == evaluator.DISABLED:
            status, body = _failure(resolution)
            return _json(status, body)
        return _json(200, _success(resolution))

    @router.post("/ofrep/v1/evaluate/flags")
    async def evaluate_flags(request: Request) -> Response:
        """OFREP bulk evaluation: every enabled flag; 304 when ``If-None-Match`` still holds."""
        environment = await environment_of(request)
        if isinstance(environment, Response):
            return environment
        context = await _context(request)
        if context is None:
            details = "Provider context is not valid"
            return _json(400, {"errorCode": "INVALID_CONTEXT", "errorDetails": details})
        flags = await flags_of(environment)
        if isinstance(flags, Response):
            return flags
        results = []
        for key, flag in flags.flags.items():
            if flag.state == "DISABLED":
                continue
            resolution = evaluator.evaluate(flags, key, context)
            results.append(
                _success(resolution) if resolution.error_code is None else _failure(resolution)[1]
            )
        body = {"flags": results, "metadata": dict(flags.metadata)}
        content = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
        etag = _etag(content)
        if _matches(request, etag):
            return Response(status_code=304, headers={"ETag": etag})
        return Response(content, media_type=_JSON, headers={"ETag": etag})

    return router


def create_document_router(service: flag_service.FlagService) -> APIRouter:
    """OFREP's configuration and the flags document in-process providers poll."""
    router = APIRouter(tags=["flags (OFREP)"])

    @router.get("/ofrep/v1/configuration")
    async def configuration(request: Request) -> Response:
        """OFREP's optional provider configuration."""
        environment = await _environment_of(service, request)
        if isinstance(environment, Response):
            return environment
        return _json(
            200,
            {
                "name": "shipyard",
                "capabilities": {
                    "cacheInvalidation": {
                        "polling": {"enabled": True, "minPollingIntervalMs": 250}
                    },
                    "flagEvaluation": {
                        "supportedTypes": ["int", "float", "string", "boolean", "object"]
                    },
                },
            },
        )

    @router.get("/flags/v1/environments/{name}/document")
    async def document(name: str, request: Request) -> Response:
        """The environment's flags as one flagd document, for in-process providers."""
        environment = await _environment_of(service, request)
        if isinstance(environment, Response):
            return environment
        if environment != name:
            details = f"this flag token reads environment `{environment}`, not `{name}`"
            return _json(403, {"errorDetails": details})
        served = await _served(service, name)
        if isinstance(served, Response):
            return served
        if served is None:
            return _json(404, {"errorDetails": f"environment `{name}` has no flags"})
        etag = f'"{name}-{served.revision}"'
        if _matches(request, etag):
            return Response(status_code=304, headers={"ETag": etag})
        body = served.flags.document()
        return _json(200, body, headers={"ETag": etag})

    return router


# -- admin --


class PublishRequest(BaseModel):
    document: dict[str, Any] = Field(description="A flagd flags document.")
    source: str = Field(default="", description="Where it came from, e.g. `flags.json@abc123`.")
    actor: str = ""


class ChangeRequest(BaseModel):
    action: str = Field(description="enable, disable, set-default, rollout or reset")
    variant: str | None = None
    percent: float | None = Field(default=None, ge=0, le=100)
    actor: str = ""


class TokenRequest(BaseModel):
    name: str = ""
    actor: str = ""


def _flag_view(served: flag_service.Served, flag: definitions.Flag) -> dict[str, Any]:
    return {
        "key": flag.key,
        "state": flag.state,
        "kind": flag.kind,
        "variants": dict(flag.variants),
        "defaultVariant": flag.default_variant,
        "targeting": flag.targeting,
        "metadata": dict(flag.metadata),
        "overridden": dict(served.overridden.get(flag.key, {})),
    }


def _set_view(served: flag_service.Served) -> dict[str, Any]:
    return {
        "environment": served.environment,
        "revision": served.revision,
        "source": served.source,
        "flags": [_flag_view(served, flag) for flag in served.flags.flags.values()],
    }


def create_admin_router(service: flag_service.FlagService) -> APIRouter:
    router = APIRouter(prefix="/api/v1/flags", tags=["flags"])

    @router.put("/{environment}")
    async def publish(environment: str, body: PublishRequest) -> dict[str, Any]:
        """Make a flagd document the environment's flags (refused whole if any flag is invalid)."""
        served = await flag_service.run(
            service.publish, environment, body.document, source=body.source, actor=body.actor
        )
        return _set_view(served)

    @router.get("/{environment}")
    async def list_flags(environment: str) -> dict[str, Any]:
        """The environment's flags as served now."""
        return _set_view(await flag_service.run(service.require, environment))

    @router.get("/{environment}/audit")
    async def audit(
        environment: str, flag: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Flag changes, newest first."""
        records = await flag_service.run(
            flag_records.audit_log, service.store, environment, flag, limit
        )
        return [
            {"id": r.id, "flag": r.flag, "action": r.action, "actor": r.actor, "at": r.at,
             "before": r.before, "after": r.after}
            for r in records
        ]  # fmt: skip

    @router.get("/{environment}/tokens")
    async def list_tokens(environment: str) -> list[dict[str, Any]]:
        """The environment's flag tokens (never the tokens themselves)."""
        records = await flag_service.run(flag_records.list_tokens, service.store, environment)
        return [_token_view(record) for record in records]

    @router.post("/{environment}/tokens")
    async def create_token(environment: str, body: TokenRequest) -> dict[str, Any]:
        """A new read-only flag token; the answer is the only time it is shown."""
        record, token = await flag_service.run(
            flag_records.create_token, service.store, environment, name=body.name, actor=body.actor
        )
        return {**_token_view(record), "token": token}

    @router.delete("/{environment}/tokens/{token_id}")
    async def revoke_token(environment: str, token_id: str) -> dict[str, Any]:
        """Revoke a flag token; applications using it get 401 within a second."""
        record = await flag_service.run(flag_records.revoke_token, service.store, token_id)
        if record is None or record.environment != environment:
            raise flag_service.FlagNotFound(
                f"environment `{environment}` has no flag token `{token_id}`"
            )
        return _token_view(record)

    @router.get("/{environment}/{key}")
    async def get_flag(environment: str, key: str) -> dict[str, Any]:
        """One flag as served now."""
        served, flag = await flag_service.run(service.flag, environment, key)
        return {**_flag_view(served, flag), "revision": served.revision}

    @router.post("/{environment}/{key}/changes")
    async def change(environment: str, key: str, body: ChangeRequest) -> dict[str, Any]:
        """A runtime change: audited and recorded in the environment's history."""
        served = await flag_service.run(
            service.change, environment, key, body.action, actor=body.actor,
            variant=body.variant, percent=body.percent,
        )  # fmt: skip
        return {**_flag_view(served, served.flags.flags[key]), "revision": served.revision}

    return router


def _token_view(record: flag_records.TokenRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "environment": record.environment,
        "name": record.name,
        "created_at": record.created_at,
        "created_by": record.created_by,
        "revoked_at": record.revoked_at,
    }


def include_routes(app: FastAPI, store: database.Store, home: Path) -> flag_service.FlagService:
    """Add the flag routes to the API; returns the service they share."""
    service = flag_service.FlagService(store, home)
    app.include_router(create_ofrep_router(service))
    app.include_router(create_document_router(service))
    app.include_router(create_admin_router(service))
    return service
