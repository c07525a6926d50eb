"""Descope management endpoints for outbound tokens (reference §3.3–§3.5).

Deletes answer ``{}`` plus the extension field ``revocations``: one
``{id, accessToken, refreshToken}`` per deleted token, each ``revoked``, ``failed``,
``unsupported`` (the provider has no revocation endpoint) or ``none``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from broker.context import broker_of
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
    # The body is sent as built: FastAPI's response validation would cost another hop;
    # ``response_model`` on the routes keeps the OpenAPI schema.
    token = await tokens.fetch(
        broker_of(request), body, tenant_level=tenant_level, by_scopes=by_scopes, arrived=arrived
    )
    return JSONResponse({"token": token})


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
