"""Admin endpoints for tests and demos: clients, fault switches, counters, token status.

Guarded by ``Authorization: Bearer <admin secret>`` when a secret is configured; otherwise only
loopback callers are served.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field

from broker.demo_provider.context import DemoProvider, provider_of
from broker.demo_provider.faults import FaultError
from broker.demo_provider.grants import find_token
from broker.demo_provider.state import AuthMethod, Client, digest


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _admin(request: Request) -> DemoProvider:
    provider = provider_of(request)
    if provider.admin_secret:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        ok = scheme.lower() == "bearer" and hmac.compare_digest(
            value.strip().encode(), provider.admin_secret.encode()
        )
        if not ok:
            raise HTTPException(401, "admin secret required", {"WWW-Authenticate": "Bearer"})
    elif request.client is None or not _is_loopback(request.client.host):
        raise HTTPException(403, "admin endpoints answer loopback callers only")
    return provider


Admin = Annotated[DemoProvider, Depends(_admin)]
router = APIRouter(prefix="/admin")


class ClientRegistration(BaseModel):
    """Body of ``POST /admin/clients`` (register or update, idempotent)."""

    client_id: str = Field(min_length=1, max_length=200)
    client_secret: str | None = Field(default=None, min_length=1)
    redirect_uris: list[str] = Field(min_length=1)
    token_endpoint_auth_method: AuthMethod | None = None
    access_token_ttl_s: int | None = Field(default=None, ge=1)
    client_name: str = Field(default="Outbound Dashboard", max_length=200)


def _client_view(client: Client) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "redirect_uris": client.redirect_uris,
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "public": client.secret_hash is None,
        "access_token_ttl_s": client.access_token_ttl_s,
        "client_name": client.client_name,
    }


@router.post("/clients")
def register_client(
    body: ClientRegistration, provider: Admin, response: Response
) -> dict[str, Any]:
    """Register or replace a client; 201 when new, 200 when updated."""
    public = body.token_endpoint_auth_method == "none" or body.client_secret is None
    if public and body.token_endpoint_auth_method not in (None, "none"):
        raise HTTPException(400, f"{body.token_endpoint_auth_method} needs a client_secret")
    client = Client(
        client_id=body.client_id,
        secret_hash=None if public or body.client_secret is None else digest(body.client_secret),
        redirect_uris=body.redirect_uris,
        token_endpoint_auth_method="none" if public else body.token_endpoint_auth_method,
        access_token_ttl_s=body.access_token_ttl_s,
        client_name=body.client_name,
    )
    created = provider.server.state.upsert_client(client)
    response.status_code = 201 if created else 200
    return {**_client_view(client), "created": created}


@router.get("/faults")
def faults(provider: Admin) -> dict[str, Any]:
    """The switched-on faults: ``{name: {"value", "remaining"}}``."""
    return provider.server.faults.snapshot()


@router.post("/faults")
def set_faults(provider: Admin, settings: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    """Merge fault settings; answers the resulting switches."""
    try:
        provider.server.faults.merge(settings)
    except FaultError as exc:
        raise HTTPException(400, str(exc)) from exc
    return provider.server.faults.snapshot()


@router.delete("/faults")
def reset_faults(provider: Admin) -> dict[str, Any]:
    """Switch every fault off."""
    provider.server.faults.reset()
    return {}


@router.get("/stats")
def stats(provider: Admin) -> dict[str, Any]:
    """Counters since start or the last reset."""
    return provider.server.stats.snapshot()


@router.post("/stats/reset")
def reset_stats(provider: Admin) -> dict[str, Any]:
    """Zero the counters."""
    provider.server.stats.reset()
    return provider.server.stats.snapshot()


class TokenQuery(BaseModel):
    """Body of ``POST /admin/tokens/status``."""

    token: str = Field(min_length=1)


def _token_status(provider: DemoProvider, token: str) -> dict[str, Any]:
    found = find_token(provider.server, token)
    if found is None:
        return {"active": False, "status": "unknown"}
    grant = provider.server.state.grant(found.grant_id)
    return {
        "active": found.status == "active",
        "status": found.status,
        "grant_id": found.grant_id,
        "grant_revoked_reason": grant.revoked_reason if grant else None,
        **found.describe(provider.issuer),
    }


@router.get("/tokens/status")
def token_status(provider: Admin, token: str) -> dict[str, Any]:
    """Introspection without client credentials, plus the token's status (tests only)."""
    return _token_status(provider, token)


@router.post("/tokens/status")
def token_status_post(provider: Admin, body: TokenQuery) -> dict[str, Any]:
    """The same as the GET, with the token in the body instead of the URL."""
    return _token_status(provider, body.token)
