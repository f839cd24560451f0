"""The ASGI application: the tracking API's hot path beside the management API.

>>> app = create_app(Settings())       # nothing starts until the ASGI lifespan does
>>> uvicorn.run(app)

Tracking routes (``/v1/track``, ``/v1/batch``…) go to the bare :class:`TrackingApp`,
analytics.js's settings and bundles to :class:`BrowserSdk`, the Profile API's reads to the
bare :class:`ProfileApp` (FastAPI still documents them and answers their unusual forms), the
web app's pages and assets to :class:`WebApp`; all else (``/api/v1``, Segment's regulations
API under ``/v1``, health, metrics, OpenAPI docs) to FastAPI.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from headwater import __version__
from headwater.api import audiences as audiences_api
from headwater.api import audit as audit_api
from headwater.api import destinations as destinations_api
from headwater.api import edge, events, hook_receiver, personal, profile_api, profiles, workspaces
from headwater.api import failures as failures_api
from headwater.api import hooks as hooks_api
from headwater.api import imports as imports_api
from headwater.api import journeys as journeys_api
from headwater.api import people as people_api
from headwater.api import pii as pii_api
from headwater.api import plugins as plugins_api
from headwater.api import privacy as privacy_api
from headwater.api import protocols as protocols_api
from headwater.api import regulations as regulations_api
from headwater.api import retention as retention_api
from headwater.api import retl as retl_api
from headwater.api import tokens as tokens_api
from headwater.api.audit_trail import AuditMetrics, AuditTrail
from headwater.api.browser_sdk import BrowserSdk
from headwater.api.docs import DOCS, add_docs
from headwater.api.masking import MaskingMiddleware
from headwater.api.operations import METRICS_RESPONSES, READY_RESPONSES, LivenessView, RootView
from headwater.api.permissions import PREFIX, check_table
from headwater.api.profile_app import ProfileApp
from headwater.api.tracking import ROUTES, Receive, Scope, Send, TrackingApp
from headwater.api.web import WebApp
from headwater.errors import ApiError, Unavailable
from headwater.runtime import FirstStart, Role, Runtime
from headwater.settings import Settings
from headwater.storage import STORAGE_ERRORS, unavailable
from headwater.telemetry.metrics import CONTENT_TYPE_LATEST, STATE_KEY
from headwater.workspaces import PluginCache

__all__ = ["HeadwaterApp", "create_app"]

_log = logging.getLogger(__name__)
_OPENAPI = "/api/openapi.json"


class HeadwaterApp:
    """Dispatches tracking routes and Profile API reads to the lean ASGI apps and the rest to
    FastAPI (through ``management``, the wrappers around it: the audit trail's recorder); all
    but tracking's requests pass :func:`edge.refuse_nul` first."""

    def __init__(
        self, api: FastAPI, management: ASGIApp | None = None, web: WebApp | None = None
    ) -> None:
        self.api = api
        self.management: ASGIApp = api if management is None else management
        self.web = web
        self.tracking: TrackingApp | None = None
        self.browser_sdk: BrowserSdk | None = None
        self.profiles: ProfileApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if self.tracking is not None and (path.rstrip("/") or "/") in ROUTES:
                await self.tracking(scope, receive, send)
                return
            screened = await edge.refuse_nul(scope, receive, send)
            if screened is None:
                return
            receive = screened
            if self.browser_sdk is not None and BrowserSdk.matches(path):
                await self.browser_sdk(scope, receive, send)
                return
            if self.web is not None and self.web.matches(scope):
                await self.web(scope, receive, send)
                return
            if self.profiles is not None and ProfileApp.matches(path):
                try:
                    if await self.profiles.handle(scope, receive, send):
                        return
                except Exception:  # noqa: BLE001 - the last resort; ProfileApp sent nothing yet
                    _log.exception("unexpected error in %s %s", scope["method"], path)
                    await edge.send_error(send, edge.UNEXPECTED)
                    return
        await self.management(scope, receive, send)


def create_app(
    settings: Settings, *, announce: Callable[[FirstStart], None] | None = None
) -> HeadwaterApp:
    """Build the application; its lifespan starts and stops a ``serve``
    :class:`~headwater.runtime.Runtime`, and hands the server its metrics (the connection
    limits count their cuts there)."""

    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[dict[str, Any]]:
        runtime = await Runtime.start(settings, role=Role.SERVE, announce=announce)
        api.state.runtime = runtime
        api.state.verified_tokens = {}
        api.state.hook_receivers = None  # made on first use, on this runtime's engine
        runtime.metrics.of(AuditMetrics)  # its failures counter shows from the start, at 0
        app.tracking = TrackingApp(
            runtime.collector,
            metrics=runtime.metrics,
            max_request_bytes=settings.max_request_bytes,
            trusted_proxies=settings.trusted_proxies,
        )
        api.state.plugins = PluginCache(
            runtime.database.engine, ttl=settings.write_key_cache_seconds
        )
        app.browser_sdk = BrowserSdk.of_package(
            sources=runtime.collector.keys.source,
            plugins=api.state.plugins.enabled,
            plugin_dir=settings.resolved_device_mode_dir,
            public_url=settings.public_url,
            trusted_proxies=settings.trusted_proxies,
        )
        app.profiles = ProfileApp(runtime, api.state.verified_tokens)
        try:
            yield {STATE_KEY: runtime.metrics}
        finally:
            app.tracking = None
            app.browser_sdk = None
            app.profiles = None
            await runtime.stop()

    api = FastAPI(
        title="Headwater",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        openapi_url=_OPENAPI,
        redoc_url=None,
        responses=edge.ERROR_RESPONSES,
    )
    management = (
        workspaces.router,
        workspaces.sources,
        hooks_api.router,
        personal.router,
        events.router,
        profiles.router,
        destinations_api.catalog,
        destinations_api.router,
        protocols_api.files,
        protocols_api.router,
        audiences_api.router,
        journeys_api.palette,
        journeys_api.files,
        journeys_api.router,
        failures_api.router,
        failures_api.processing,
        privacy_api.router,
        people_api.sign_in,
        people_api.account,
        people_api.users,
        people_api.members,
        tokens_api.router,
        tokens_api.me,
        audit_api.router,
        audit_api.instance,
        regulations_api.router,
        pii_api.router,
        retention_api.router,
        plugins_api.router,
        retl_api.router,
        imports_api.uploads,
        imports_api.router,
    )
    check_table(
        (method, PREFIX + route.path)
        for router in management
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    )
    for router in management:
        api.include_router(router, prefix=PREFIX)
    api.include_router(profile_api.router)
    api.include_router(hook_receiver.router)
    api.include_router(regulations_api.public)
    _add_operational_routes(api)
    add_docs(api, openapi_url=_OPENAPI)
    _add_error_handlers(api)
    _add_unavailable_handler(api)
    api.add_middleware(MaskingMiddleware)
    app = HeadwaterApp(
        api, AuditTrail(api, trusted_proxies=settings.trusted_proxies), WebApp.of_package()
    )
    return app


def _add_operational_routes(api: FastAPI) -> None:
    @api.get("/health", tags=["operations"])
    async def health() -> LivenessView:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @api.get("/ready", tags=["operations"], responses=READY_RESPONSES)
    async def ready(request: Request) -> JSONResponse:
        """Readiness: the database answers, events can be committed and every background task
        is up; the body names each part and its state (503 while one is down)."""
        runtime: Runtime = request.app.state.runtime
        report = await runtime.ready()
        return JSONResponse(report, status_code=200 if report["ready"] else 503)

    @api.get("/metrics", tags=["operations"], response_class=Response, responses=METRICS_RESPONSES)
    async def metrics(request: Request) -> Response:
        """Prometheus metrics (of every worker process when there are several)."""
        runtime: Runtime = request.app.state.runtime
        return Response(runtime.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    @api.get("/", tags=["operations"])
    async def root() -> RootView:
        return {
            "name": "Headwater",
            "version": __version__,
            "tracking": "/v1/batch",
            "api": "/api/v1",
            "docs": DOCS,
        }


def _add_unavailable_handler(api: FastAPI) -> None:
    """A database that cannot be reached is a 503 with the usual JSON error body, on every
    route (its error's text, which may name hosts or quote statements, is only logged). Any
    other database error goes on to the next handler."""

    async def database_error(request: Request, error: Exception) -> JSONResponse:
        if not unavailable(error):
            raise error
        _log.error(
            "%s %s: database unavailable (%s)",
            request.method,
            request.url.path,
            type(error).__name__,
        )
        body = Unavailable("unavailable", "the database is unavailable; retry later").body()
        return JSONResponse(body, status_code=503)

    for kind in (*STORAGE_ERRORS, PoolTimeout):
        api.add_exception_handler(kind, database_error)


def _add_error_handlers(api: FastAPI) -> None:
    @api.exception_handler(ApiError)
    async def api_error(_: Request, error: ApiError) -> JSONResponse:
        retry_after = error.details.get("retry_after")
        headers = None if retry_after is None else {"Retry-After": str(retry_after)}
        return JSONResponse(error.body(), status_code=error.status, headers=headers)

    @api.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed"}
        return JSONResponse(
            {
                "success": False,
                "code": codes.get(error.status_code, f"http_{error.status_code}"),
                "message": "no such route" if error.status_code == 404 else str(error.detail),
            },
            status_code=error.status_code,
            headers=error.headers,
        )

    @api.exception_handler(RequestValidationError)
    async def invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
            for e in error.errors()
        ]
        return JSONResponse(
            {
                "success": False,
                "code": "invalid_request",
                "message": "invalid request",
                "errors": details,
            },
            status_code=422,
        )

    @api.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        """The last resort: a JSON 500 that names nothing of the cause, which is logged here
        (Starlette then re-raises it to the server, which logs it too)."""
        _log.error("unexpected error in %s %s", request.method, request.url.path, exc_info=error)
        return JSONResponse(edge.UNEXPECTED.body(), status_code=edge.UNEXPECTED.status)
