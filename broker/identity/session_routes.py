"""Descope auth endpoints for keeping a session: refresh, logout, me (reference §4.1)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from broker.context import DbSession, broker_of
from broker.identity.auth import RefreshUser, parse_bearer, require_refresh_user
from broker.identity.sessions import end_all_sessions, end_session, refresh
from broker.identity.tenants import tenants_of
from broker.identity.users import own_user
from broker.identity.wire import MyTenants

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
def me(caller: RefreshUser, s: DbSession) -> dict[str, Any]:
    """The caller's UserResponse, bare (not wrapped in ``user``)."""
    return own_user(s, caller.user_id)


@router.post("/v1/auth/me/tenants")
def my_tenants(body: MyTenants, caller: RefreshUser, s: DbSession) -> dict[str, Any]:
    """The caller's tenants: the selected one (``dct``) or those with the given ids."""
    wanted = set(body.ids or [])
    if body.dct:
        wanted.add(str(caller.claims.get("dct", "")))
    return {"tenants": tenants_of(s, caller.user_id, wanted)}
