"""Descope management endpoints for outbound tokens (reference §3.3–§3.5).

Deletes answer ``{}`` plus the extension field ``revocations``: one
``{id, accessToken, refreshToken}`` per deleted token, each ``revoked``, ``failed``,
``unsupported`` (the provider has no revocation endpoint) or ``none``.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool

from broker.context import Broker, broker_of
from broker.identity.auth import ManagementAuth, ManagementOrUser
from broker.outbound import tokens, uploads
from broker.outbound.wire import ApiKeyUpload, BatchUpload, OAuthTokenUpload, TokenFetchRequest
from broker.store.db import now_s

router = APIRouter(tags=["outbound tokens"])


async def _arrival() -> float:
    # An async dependency, declared first, runs on arrival: before the sync ones (auth), which
    # queue for a worker thread while a burst of requests waits on one refresh.
    return now_s()


Arrival = Annotated[float, Depends(_arrival)]


async def _token_answer(
    request: Request,
    body: TokenFetchRequest,
    *,
    tenant_level: bool,
    by_scopes: bool,
    arrived: float,
) -> JSONResponse:
    # The fetch is the broker's hot path (bench/fetch.py, docs/performance.md; the common case
    # is answered before this, by ``fast_fetch``). The lookup is one indexed read on the event
    # loop's own connection (``Database.loop_read``), so the loop never waits on a pool
    # checkout; a token usable now is answered here. Anything else (refresh due or forced, no
    # token, dead grant) runs in a worker thread with what the lookup found, since it may call
    # the provider: in a storm of forced refreshes the threads then wait on the one refresh
    # without first queueing for the pool's connections. The body
    # is sent as built: FastAPI's response validation would cost another hop; ``response_model``
    # on the routes keeps the OpenAPI schema.
    broker = broker_of(request)
    found = tokens.lookup_on_loop(broker, body, tenant_level=tenant_level, by_scopes=by_scopes)
    token = tokens.fresh_answer(broker, body, found) if found is not None else None
    if token is None:
        answered = await run_in_threadpool(
            partial(
                tokens.fetch_token,
                broker,
                body,
                tenant_level=tenant_level,
                by_scopes=by_scopes,
                arrived=arrived,
                found=found,
            )
        )
        token = answered if isinstance(answered, dict) else await _refreshed(broker, answered, body)
    return JSONResponse({"token": token})


async def _refreshed(
    broker: Broker, refreshed: tokens.Refreshed, body: TokenFetchRequest
) -> dict[str, Any]:
    """The refreshed token, read on the event loop (through the pool if that read fails)."""
    try:
        return tokens.refreshed_answer(broker, refreshed, body, on_loop=True)
    except DBAPIError:
        return await run_in_threadpool(
            partial(tokens.refreshed_answer, broker, refreshed, body, on_loop=False)
        )


@router.post("/v1/mgmt/outbound/app/user/token", response_model=dict[str, Any])
async def user_token_by_scopes(
    arrived: Arrival, body: TokenFetchRequest, request: Request, _: ManagementAuth
) -> JSONResponse:
    """The newest user token holding every requested scope."""
    return await _token_answer(request, body, tenant_level=False, by_scopes=True, arrived=arrived)


@router.post("/v1/mgmt/outbound/app/user/token/latest", response_model=dict[str, Any])
async def user_token_latest(
    arrived: Arrival, body: TokenFetchRequest, request: Request, _: ManagementAuth
) -> JSONResponse:
    """The user's newest token."""
    return await _token_answer(request, body, tenant_level=False, by_scopes=False, arrived=arrived)


@router.post("/v1/mgmt/outbound/app/tenant/token", response_model=dict[str, Any])
async def tenant_token_by_scopes(
    arrived: Arrival, body: TokenFetchRequest, request: Request, _: ManagementAuth
) -> JSONResponse:
    """The newest tenant token holding every requested scope."""
    return await _token_answer(request, body, tenant_level=True, by_scopes=True, arrived=arrived)


@router.post("/v1/mgmt/outbound/app/tenant/token/latest", response_model=dict[str, Any])
async def tenant_token_latest(
    arrived: Arrival, body: TokenFetchRequest, request: Request, _: ManagementAuth
) -> JSONResponse:
    """The tenant's newest token."""
    return await _token_answer(request, body, tenant_level=True, by_scopes=False, arrived=arrived)


@router.get("/v1/mgmt/outbound/apps-with-user-token")
def apps_with_user_token(
    request: Request,
    caller: ManagementOrUser,
    user_id: str | None = Query(default=None, alias="userId"),
    tenant_id: str | None = Query(default=None, alias="tenantId"),
) -> dict[str, Any]:
    """Ids of the apps a user holds a usable token for."""
    return {"appIds": tokens.apps_with_user_token(broker_of(request), caller, user_id, tenant_id)}


@router.delete("/v1/mgmt/outbound/user/tokens")
def delete_user_tokens(
    request: Request,
    _: ManagementAuth,
    app_id: str | None = Query(default=None, alias="appId"),
    user_id: str | None = Query(default=None, alias="userId"),
) -> dict[str, Any]:
    """Revoke and delete tokens by app and/or user."""
    return {"revocations": tokens.delete_user_tokens(broker_of(request), app_id, user_id)}


@router.delete("/v1/mgmt/outbound/token")
def delete_token(
    request: Request, _: ManagementAuth, token_id: str | None = Query(default=None, alias="id")
) -> dict[str, Any]:
    """Revoke and delete one token."""
    return {"revocations": tokens.delete_token(broker_of(request), token_id)}


@router.post("/v1/mgmt/outbound/app/user/apikey/upload")
def upload_user_api_key(body: ApiKeyUpload, request: Request, _: ManagementAuth) -> dict[str, Any]:
    """Store a user's API key."""
    uploads.upload_api_key(broker_of(request), body, tenant_level=False)
    return {}


@router.post("/v1/mgmt/outbound/app/tenant/apikey/upload")
def upload_tenant_api_key(
    body: ApiKeyUpload, request: Request, _: ManagementAuth
) -> dict[str, Any]:
    """Store a tenant's API key."""
    uploads.upload_api_key(broker_of(request), body, tenant_level=True)
    return {}


@router.post("/v1/mgmt/outbound/app/user/oauthtoken/upload")
def upload_user_token(
    body: OAuthTokenUpload, request: Request, _: ManagementAuth
) -> dict[str, Any]:
    """Migrate in a user's OAuth token."""
    uploads.upload_oauth_token(broker_of(request), body, tenant_level=False)
    return {}


@router.post("/v1/mgmt/outbound/app/tenant/oauthtoken/upload")
def upload_tenant_token(
    body: OAuthTokenUpload, request: Request, _: ManagementAuth
) -> dict[str, Any]:
    """Migrate in a tenant's OAuth token."""
    uploads.upload_oauth_token(broker_of(request), body, tenant_level=True)
    return {}


@router.post("/v1/mgmt/outbound/app/user/oauthtoken/batch/upload")
def batch_upload_user_tokens(
    body: BatchUpload, request: Request, _: ManagementAuth
) -> dict[str, Any]:
    """Migrate in many user tokens, all or nothing."""
    return {"failures": uploads.batch_upload(broker_of(request), body.tokens, tenant_level=False)}


@router.post("/v1/mgmt/outbound/app/tenant/oauthtoken/batch/upload")
def batch_upload_tenant_tokens(
    body: BatchUpload, request: Request, _: ManagementAuth
) -> dict[str, Any]:
    """Migrate in many tenant tokens, all or nothing."""
    return {"failures": uploads.batch_upload(broker_of(request), body.tokens, tenant_level=True)}
