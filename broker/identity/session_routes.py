"""Descope auth endpoints for keeping a session: refresh, logout, me (reference §4.1)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select

from broker.context import broker_of
from broker.errors import UserNotFound
from broker.identity.auth import RefreshUser, parse_bearer, require_refresh_user
from broker.identity.sessions import end_all_sessions, end_session, refresh
from broker.identity.users import user_response
from broker.identity.wire import MyTenants
from broker.store.identity import Tenant, User, UserTenant

router = APIRouter(tags=["auth"])


@router.post("/v1/auth/refresh")
def refresh_session(caller: RefreshUser, request: Request) -> dict[str, Any]:
    """A new session JWT; the refresh JWT given (bearer or DSR cookie) stays valid."""
    return refresh(broker_of(request), caller.claims)


@router.post("/v1/auth/try-refresh")
def try_refresh_session(request: Request) -> dict[str, Any]:
    """Like refresh, but answers ``{}`` instead of failing when no refresh JWT was sent."""
    if not parse_bearer(request).jwt and not request.cookies.get("DSR"):
        return {}
    caller = require_refresh_user(request)
    return refresh(broker_of(request), caller.claims)


@router.post("/v1/auth/logout")
def logout(caller: RefreshUser, request: Request) -> dict[str, Any]:
    """End this sign-in session: its refresh and session JWTs stop working."""
    end_session(broker_of(request), str(caller.claims["sid"]))
    return {}


@router.post("/v1/auth/logoutall")
def logout_all(caller: RefreshUser, request: Request) -> dict[str, Any]:
    """End every sign-in session of the caller."""
    end_all_sessions(broker_of(request), str(caller.user_id))
    return {}


@router.get("/v1/auth/me")
def me(caller: RefreshUser, request: Request) -> dict[str, Any]:
    """The caller's UserResponse, bare (not wrapped in ``user``)."""
    with broker_of(request).db.session() as s:
        user = s.get(User, caller.user_id)
        if user is None:
            raise UserNotFound("User not found")
        return user_response(s, user)


@router.post("/v1/auth/me/tenants")
def my_tenants(body: MyTenants, caller: RefreshUser, request: Request) -> dict[str, Any]:
    """The caller's tenants: the selected one (``dct``) or those with the given ids."""
    wanted = set(body.ids or [])
    if body.dct:
        wanted.add(str(caller.claims.get("dct", "")))
    with broker_of(request).db.session() as s:
        rows = s.scalars(
            select(Tenant)
            .join(UserTenant, UserTenant.tenant_id == Tenant.id)
            .where(UserTenant.user_id == caller.user_id, Tenant.id.in_(wanted))
            .order_by(Tenant.name)
        )
        tenants = [
            {"id": t.id, "name": t.name, "customAttributes": dict(t.custom_attributes)}
            for t in rows
        ]
    return {"tenants": tenants}
