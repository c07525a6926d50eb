"""The broker's FastAPI application factory: routers, error mapping, limits, CORS."""

from __future__ import annotations

import importlib
import logging
import os
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.telemetry import TelemetryConfig
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from broker.config import BrokerSettings
from broker.context import Broker, bootstrap
from broker.edge import ASGIApp, Edge
from broker.errors import (
    METHOD_NOT_ALLOWED,
    BadRequest,
    DescopeError,
    InvalidArguments,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
)
from broker.lifecycle.scheduler import lifecycle_lifespan
from broker.outbound.fast_fetch import FastFetch
from broker.providers.url_policy import warm_up
from broker.strict import StrictResponses

log = logging.getLogger("broker")

# Each module exposes ``router`` (an APIRouter). Paths do not overlap, so order only decides
# how many routes a request is matched against: the token fetch, the hot path
# (docs/performance.md), comes first.
ROUTER_MODULES = (
    "broker.outbound.token_routes",
    "broker.identity.auth_routes",
    "broker.identity.session_routes",
    "broker.identity.mgmt_routes",
    "broker.identity.tenant_routes",
    "broker.outbound.apps_routes",
    "broker.outbound.catalog_routes",
    "broker.outbound.connect_routes",
    "broker.outbound.connect_x_routes",
    "broker.outbound.inventory_routes",
    "broker.outbound.lifecycle_routes",
    "broker.agents.access_key_routes",
    "broker.agents.proxy_routes",
    "broker.outbound.flow_routes",
    "broker.outbound.widget_routes",
)

DESCOPE_HEADERS = [
    "authorization",
    "content-type",
    "x-descope-project-id",
    "x-descope-sdk-name",
    "x-descope-sdk-version",
    "x-descope-sdk-python-version",
    "x-descope-sdk-node-version",
    "x-descope-sdk-go-version",
    "x-descope-sdk-session-id",
    "x-descope-license",
    "x-descope-refresh-cookie-name",
    "x-descope-trusted-device-token",
    "x-descope-widget-type",
    "x-descope-widget-id",
    "x-descope-widget-version",
    "x-external-rid",
]

# Demo mode (loopback-bound by construction) grants credentialed CORS to every local origin.
LOCAL_ORIGINS = r"https?://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?"


def _error_response(error: DescopeError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers())


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DescopeError)
    async def _descope(_: Request, exc: DescopeError) -> JSONResponse:
        return _error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") in {"json_invalid", "json_type"} for e in errors):
            return _error_response(BadRequest("Malformed JSON body"))
        first = errors[0] if errors else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        detail = f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg", ""))
        return _error_response(ValidationFailed(f"Invalid request: {detail}"))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI's "error parsing the body" (e.g. nesting too deep)
            return _error_response(BadRequest(str(exc.detail)))
        if exc.status_code == 404:
            return _error_response(NotFound("Endpoint not found"))
        if exc.status_code == 405:
            return _error_response(
                DescopeError("Method not allowed", code=METHOD_NOT_ALLOWED, status=405)
            )
        return _error_response(DescopeError(str(exc.detail), status=exc.status_code))

    @app.exception_handler(DataError)
    async def _unstorable(_: Request, exc: DataError) -> JSONResponse:
        # A value the database cannot hold (a NUL in PostgreSQL text, an int4 overflow).
        log.warning("database refused a value", extra={"error_type": type(exc.orig).__name__})
        return _error_response(InvalidArguments("A value is out of range or not storable"))

    @app.exception_handler(OperationalError)
    async def _database_unavailable(_: Request, exc: OperationalError) -> JSONResponse:
        # Locked (SQLite busy timeout), restarted or unreachable: transient, so 503 (SDKs retry).
        log.warning("database unavailable", extra={"error_type": type(exc.orig).__name__})
        return _error_response(ServiceUnavailable("The database is busy or unavailable"))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"error_type": type(exc).__name__})
        return _error_response(DescopeError("Internal error"))


class BrokerApp(FastAPI):
    """FastAPI with the broker's outer layers in front of its whole middleware stack: the token
    fetch's fast path (``FastFetch``: a fresh token answered before any of FastAPI's machinery),
    and around everything, in strict mode, Descope's surface (``StrictResponses``: every answer,
    the fast path's and the stack's error handlers' included, is stripped to Descope's)."""

    def build_middleware_stack(self) -> ASGIApp:
        broker: Broker = self.state.broker
        outer: ASGIApp = FastFetch(super().build_middleware_stack(), broker)
        return StrictResponses(outer) if broker.settings.strict_descope else outer


def _telemetry() -> TelemetryConfig:
    """FastAPI's native OpenTelemetry when the environment configures OpenTelemetry at start-up
    (an ``OTEL_`` variable, as ``opentelemetry-instrument`` and the SDK's exporters read, or
    ``FASTAPI_OTEL_AUTO_CONFIGURE``); otherwise off, so no request pays FastAPI's check of the
    global providers (≈3 µs a request, environment lookups included; docs/performance.md)."""
    auto = os.environ.get("FASTAPI_OTEL_AUTO_CONFIGURE", "").lower() == "true"
    on = auto or any(name.startswith("OTEL_") for name in os.environ)
    return {"tracing": on, "metrics": on, "logs": on}


def create_app(broker: Broker) -> FastAPI:
    """The ASGI app serving ``broker``."""
    settings = broker.settings
    app = BrokerApp(
        title="Outbound broker",
        description=(
            "A wire-compatible implementation of the Descope API surface used by Outbound "
            "Dashboard. Paths under /v1/x/ are extensions beyond Descope's surface."
        ),
        version="0.1.0",
        lifespan=lifecycle_lifespan(broker),
        telemetry=_telemetry(),
    )
    app.state.broker = broker
    warm_up()  # each worker process builds this app: its first refresh starts warm
    health_body = JSONResponse(
        {"ok": True, "projectId": broker.project_id, "broker": "outbound"}
    ).body

    # Registered before the routers, so a health probe is matched against one route, not ≈60;
    # ``async``, so it does not hop to the thread pool; its bytes made once, so no response
    # validation or encoding per probe (docs/performance.md).
    @app.get("/v1/x/health", tags=["extensions"], response_model=dict[str, Any])
    async def health() -> Response:
        """Liveness and identity of this broker (an extension; not part of Descope's API)."""
        return Response(health_body, media_type="application/json")

    for name in ROUTER_MODULES:
        app.include_router(importlib.import_module(name).router)
    _install_error_handlers(app)
    # Credentialed CORS for the dashboard's origin and OUTBOUND_CORS_ORIGINS only; demo mode,
    # loopback-bound by construction, adds every local origin (any port on this machine).
    app.add_middleware(
        Edge,
        max_bytes=settings.max_body_bytes,
        allow_origins=list(settings.credentialed_origins),
        allow_origin_regex=LOCAL_ORIGINS if settings.demo_mode else None,
        allow_headers=DESCOPE_HEADERS,
    )
    return app


def create_app_from_env() -> FastAPI:
    """Factory for uvicorn workers: settings from the environment, keys already bootstrapped."""
    settings = BrokerSettings.from_env()
    return create_app(bootstrap(settings, write_local_env=False))
