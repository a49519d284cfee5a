"""The HTTP API: FastAPI routes over the controller, every one behind the server's token.

Every refusal is JSON, ``{"error": {"message": ..., "hint": ...}}``, with the status that fits it
(401 bad token, 404 unknown environment or release, 409 a change that cannot happen now, 422 an
invalid body); a bug is a 500 with the same shape and never a stack trace. The OpenAPI document
is at ``/openapi.json`` (behind the token too).
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from shipyard import __version__
from shipyard.core import errors
from shipyard.deploy import releases
from shipyard.runtime.supervisor import logs, supervisor
from shipyard.secrets import masking
from shipyard.server import api_deploys, api_flags, controller
from shipyard.store import records

_log = logging.getLogger(__name__)
TOKEN_HINT = "send `Authorization: Bearer <token>`; the token is in $SHIPYARD_HOME/server.json"


# -- bodies --


class ErrorBody(BaseModel):
    message: str
    hint: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


class Status(BaseModel):
    version: str
    pid: int
    started_at: float
    router_pid: int | None


class Release(BaseModel):
    id: str
    app: str
    commit: str
    tree: str
    ref: str
    status: str
    created_at: float
    build_seconds: float
    size_bytes: int
    failed_service: str | None


class Instance(BaseModel):
    environment: str
    name: str
    service: str
    slot: int
    release_id: str
    state: str
    restarts: int
    port: int
    pid: int | None
    uptime_seconds: float | None
    message: str
    log_path: str


class Environment(BaseModel):
    name: str
    app: str
    release_id: str | None
    desired: str
    port: int | None
    replicas: dict[str, int]
    instances: list[Instance]


class UpRequest(BaseModel):
    app: str | None = Field(default=None, description="The app (required for a new environment).")
    release: str | None = Field(
        default=None, description="A release id or prefix; default: the newest built release."
    )
    replicas: dict[str, int] = Field(
        default_factory=dict, description="Replicas per service, overriding shipyard.yaml."
    )


def _instance(record: records.InstanceRecord, now: float) -> Instance:
    return Instance(
        environment=record.environment,
        name=record.name,
        service=record.service,
        slot=record.slot,
        release_id=record.release_id,
        state=record.state,
        restarts=record.restarts,
        port=record.port,
        pid=record.pid,
        uptime_seconds=controller.uptime(record, now),
        message=record.message,
        log_path=record.log_path,
    )


def _environment(view: controller.EnvironmentView) -> Environment:
    now = time.time()
    record = view.record
    return Environment(
        name=record.name,
        app=record.app,
        release_id=record.release_id,
        desired=record.desired,
        port=view.port,
        replicas=dict(record.replicas),
        instances=[_instance(item, now) for item in view.instances],
    )


def _release(manifest: releases.Manifest) -> Release:
    return Release(
        id=manifest.id,
        app=manifest.app,
        commit=manifest.commit,
        tree=manifest.tree,
        ref=manifest.ref,
        status=manifest.status,
        created_at=manifest.created_at,
        build_seconds=manifest.build_seconds,
        size_bytes=manifest.size_bytes,
        failed_service=manifest.failed_service,
    )


# -- errors --


def error_response(status: int, message: str, hint: str | None = None) -> JSONResponse:
    body = ErrorResponse(error=ErrorBody(message=message, hint=hint))
    return JSONResponse(body.model_dump(), status_code=status)


def _masked_error(masker: masking.Masker, error: errors.ShipyardError) -> JSONResponse:
    """An error's answer with every secret the server knows masked out of its text."""
    hint = masker.mask(error.hint) if error.hint else None
    return error_response(_status_of(error), masker.mask(error.headline()), hint)


def _status_of(error: errors.ShipyardError) -> int:
    if isinstance(error, controller.NotFound):
        return 404
    if isinstance(error, controller.Conflict | supervisor.SupervisorError):
        return 409
    if isinstance(error, errors.UserError | releases.ReleaseError):
        return 400
    return 500


def _validation_message(error: RequestValidationError) -> tuple[str, str]:
    problems = error.errors()
    if not problems:
        return "invalid request", "see /openapi.json for the request's shape"
    first = problems[0]
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    message = f"invalid request: {where}: {first.get('msg', 'invalid')}"
    return message, "see /openapi.json for the request's shape"


def create_app(state: controller.Controller, *, token: str, started_at: float, pid: int) -> FastAPI:
    """The API over ``state``; ``token`` guards every route."""
    app = FastAPI(
        title="Shipyard",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        responses={
            401: {"model": ErrorResponse},
            404: {"model": ErrorResponse},
            409: {"model": ErrorResponse},
            422: {"model": ErrorResponse},
        },
    )

    @app.middleware("http")
    async def require_token(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        # OFREP and the flags document take flag tokens, checked by their own routes.
        if not request.url.path.startswith(api_flags.PUBLIC_PREFIXES) and (
            scheme.lower() != "bearer"
            or not hmac.compare_digest(value.strip().encode(), token.encode())
        ):
            message = "missing token" if not given else "invalid token"
            return error_response(401, message, TOKEN_HINT)
        try:
            return await call_next(request)
        except Exception:  # a bug: logged with its traceback, answered without it
            _log.exception("error while answering %s %s", request.method, request.url.path)
            return error_response(
                500, "internal error", "this is a bug in Shipyard; the server log has details"
            )

    @app.exception_handler(errors.ShipyardError)
    async def shipyard_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, errors.ShipyardError)
        return _masked_error(state.masker, error)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        message, hint = _validation_message(error)
        return error_response(422, message, hint)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        hint = "see /openapi.json for the routes" if error.status_code in (404, 405) else None
        return error_response(error.status_code, str(error.detail).lower(), hint)

    @app.get("/api/v1/status", response_model=Status, tags=["server"])
    async def status() -> Status:
        """The server's version, pid and start time, and the router's pid."""
        return Status(
            version=__version__, pid=pid, started_at=started_at, router_pid=state.router.pid
        )

    @app.get("/api/v1/releases", response_model=list[Release], tags=["releases"])
    async def list_releases(app_name: str | None = Query(None, alias="app")) -> list[Release]:
        """Releases, newest first (of one app with ``?app=``)."""
        return [_release(m) for m in releases.list_releases(state.releases_root, app_name)]

    @app.get("/api/v1/releases/{app_name}/{release_id}", response_model=Release, tags=["releases"])
    async def get_release(app_name: str, release_id: str) -> Release:
        """One release by id or unambiguous prefix."""
        try:
            return _release(releases.find_release(state.releases_root, app_name, release_id))
        except releases.ReleaseError as error:
            raise controller.NotFound(error.message, hint=error.hint) from None

    @app.get("/api/v1/environments", response_model=list[Environment], tags=["environments"])
    async def list_environments() -> list[Environment]:
        """Every environment with its desired state and instances."""
        return [_environment(view) for view in await state.views()]

    @app.get("/api/v1/environments/{name}", response_model=Environment, tags=["environments"])
    async def get_environment(name: str) -> Environment:
        """One environment with its desired state and instances."""
        return _environment(await state.view(name))

    @app.post("/api/v1/environments/{name}/up", response_model=Environment, tags=["environments"])
    async def up(name: str, body: UpRequest) -> Environment:
        """Run a release in the environment; answers once every instance is ready."""
        for service, count in body.replicas.items():
            if not 1 <= count <= 64:
                raise controller.Conflict(
                    f"replicas of `{service}` must be from 1 to 64, not {count}"
                )
        view = await state.up(name, app=body.app, release_id=body.release, replicas=body.replicas)
        return _environment(view)

    @app.post("/api/v1/environments/{name}/down", response_model=Environment, tags=["environments"])
    async def down(name: str) -> Environment:
        """Stop every instance of the environment."""
        return _environment(await state.down(name))

    @app.get("/api/v1/instances", response_model=list[Instance], tags=["environments"])
    async def list_instances(environment: str | None = None) -> list[Instance]:
        """Running instances (of one environment with ``?environment=``)."""
        if environment is not None:
            await state.view(environment)  # 404 for an unknown one
        now = time.time()
        return [_instance(record, now) for record in state.instances(environment)]

    @app.get("/api/v1/environments/{name}/logs", tags=["environments"])
    async def read_logs(
        name: str,
        service: str | None = None,
        tail: int = Query(100, ge=0, le=100_000),
        follow: bool = False,
    ) -> StreamingResponse:
        """Instance logs as text lines ``web.1 | ...``; ``follow`` keeps streaming new lines."""
        await state.view(name)

        async def lines() -> AsyncIterator[bytes]:
            async for line in logs.read_logs(state.home, name, service, tail=tail, follow=follow):
                yield state.masker.mask(line).encode()

        return StreamingResponse(lines(), media_type="text/plain; charset=utf-8")

    app.include_router(api_deploys.router(state))
    api_flags.include_routes(app, state.store, state.home)
    return app
