"""Descope management endpoints for identity: license, management sign-in, users, the outbox.

Each handler takes the request's ``DbSession`` and calls the services that own the queries
(``user_admin``, ``user_search``, ``sessions``).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request

from broker.context import Broker, DbSession, broker_of
from broker.errors import NotFound
from broker.identity import user_admin
from broker.identity.auth import ManagementAuth
from broker.identity.otp import latest_messages
from broker.identity.passwords import hash_password
from broker.identity.throttle import hash_slots
from broker.identity.user_search import search_users
from broker.identity.users import normalize_login_id
from broker.identity.wire import (
    MgmtSignIn,
    StatusChange,
    UserCreate,
    UserPassword,
    UserRef,
    UserRoles,
    UserSearch,
    UsersLoad,
    UserTenantChange,
)

router = APIRouter(tags=["management"])


@router.get("/v1/mgmt/license")
def license_tier(_: ManagementAuth) -> dict[str, str]:
    """The SDK start-up handshake: this broker has no rate-limit tiers."""
    return {"rateLimitTier": "tier1"}


@router.post("/v1/mgmt/auth/signin")
def management_sign_in(body: MgmtSignIn, request: Request, _: ManagementAuth) -> dict[str, Any]:
    """Embedded sign-in: a session for an existing user without its credentials (tests, tools)."""
    return user_admin.sign_in_as(broker_of(request), body.login_id)


@router.get("/v1/x/outbox", tags=["extensions"])
def outbox(
    _: ManagementAuth, request: Request, login_id: str = Query(alias="loginId")
) -> dict[str, Any]:
    """Extension (not in Descope's API), demo mode only: the latest codes kept for a login id.

    In demo mode without SMTP, one-time codes land in this local outbox so the person running
    the demo (or a test) can read them with the management key. Outside demo mode there is no
    outbox: codes go out by email only, and this path answers 404 like an unknown endpoint.
    """
    broker = broker_of(request)
    if not broker.settings.demo_mode:
        raise NotFound("Endpoint not found")
    return {"messages": latest_messages(broker, normalize_login_id(login_id))}


def _password_hash(broker: Broker, password: str) -> str:
    """The hash of a new password, computed in one of the bounded hashing slots."""
    return hash_password(password, hash_slots(broker).held())


def _create(request: Request, s: DbSession, body: UserCreate, *, test: bool) -> dict[str, Any]:
    password_hash = _password_hash(broker_of(request), body.password) if body.password else None
    return user_admin.create(s, body.model_copy(update={"test": test}), password_hash)


@router.post("/v1/mgmt/user/create")
def create(body: UserCreate, request: Request, s: DbSession, _: ManagementAuth) -> dict[str, Any]:
    """Create a user → ``{user}`` (409 E062107 if a login id is taken)."""
    return _create(request, s, body, test=bool(body.test))


@router.post("/v1/mgmt/user/create/test")
def create_test(
    body: UserCreate, request: Request, s: DbSession, _: ManagementAuth
) -> dict[str, Any]:
    """Create a test user → ``{user}``; test users are left out of searches by default."""
    return _create(request, s, body, test=True)


@router.get("/v1/mgmt/user")
def load(
    s: DbSession,
    _: ManagementAuth,
    login_id: str | None = Query(default=None, alias="loginId"),
    user_id: str | None = Query(default=None, alias="userId"),
) -> dict[str, Any]:
    """Load one user by ``loginId`` or ``userId`` → ``{user}`` (404 E112102 if none)."""
    return user_admin.load(s, login_id, user_id)


@router.post("/v1/mgmt/users/load")
def load_many(body: UsersLoad, s: DbSession, _: ManagementAuth) -> dict[str, Any]:
    """Load users by id → ``{users}``; ids with no user are left out."""
    return user_admin.load_many(s, body.user_ids)


@router.post("/v2/mgmt/user/search")
@router.post("/v1/mgmt/user/search")
def search(body: UserSearch, s: DbSession, _: ManagementAuth) -> dict[str, Any]:
    """Search users → ``{users, total}``; ``limit: 0`` is the default page size, pages from 0."""
    return search_users(s, body)


@router.post("/v1/mgmt/user/update/status")
def update_status(body: StatusChange, s: DbSession, _: ManagementAuth) -> dict[str, Any]:
    """Enable or disable a user → ``{user}``; disabling ends every session it holds."""
    return user_admin.set_status(s, body.login_id, body.status)


@router.post("/v1/mgmt/user/logout")
def logout_user(body: UserRef, s: DbSession, _: ManagementAuth) -> dict[str, Any]:
    """Sign a user out everywhere (by ``loginId`` or ``userId``): its refresh JWTs stop working."""
    user_admin.sign_out(s, body.login_id, body.user_id)
    return {}


@router.post("/v1/mgmt/user/delete")
def delete(body: UserRef, s: DbSession, _: ManagementAuth) -> dict[str, Any]:
    """Delete a user with its sessions and memberships (nothing happens if there is none)."""
    user_admin.delete(s, body.login_id, body.user_id)
    return {}


def _set_password(
    request: Request, s: DbSession, body: UserPassword, *, active: bool
) -> dict[str, Any]:
    password_hash = _password_hash(broker_of(request), body.password)
    user_admin.set_password(s, body.login_id, password_hash, active=active)
    return {}


@router.post("/v1/mgmt/user/password/set/active")
def set_active_password(
    body: UserPassword, request: Request, s: DbSession, _: ManagementAuth
) -> dict[str, Any]:
    """Set a user's password (policy applies), usable at once; every session of the user ends."""
    return _set_password(request, s, body, active=True)


@router.post("/v1/mgmt/user/password/set/temporary")
@router.post("/v1/mgmt/user/password/set")
def set_temporary_password(
    body: UserPassword, request: Request, s: DbSession, _: ManagementAuth
) -> dict[str, Any]:
    """Set a password born expired (as Descope's ``set/temporary`` and deprecated ``set`` do):
    it must be replaced before it signs in; every session of the user ends."""
    return _set_password(request, s, body, active=False)


@router.post("/v1/mgmt/user/password/expire")
def expire_password(body: UserRef, s: DbSession, _: ManagementAuth) -> dict[str, Any]:
    """Expire a user's password: it no longer signs in, and every session ends."""
    user_admin.expire_password(s, body.login_id, body.user_id)
    return {}


def _roles(s: DbSession, body: UserRoles, how: Literal["set", "add", "remove"]) -> dict[str, Any]:
    return user_admin.change_user_roles(
        s, body.login_id, body.role_names or [], how, body.tenant_id
    )


@router.post("/v1/mgmt/user/update/role/set")
def set_roles(body: UserRoles, s: DbSession, _: ManagementAuth) -> dict[str, Any]:
    """Replace a user's roles (project-wide, or in ``tenantId``) → ``{user}``."""
    return _roles(s, body, "set")


@router.post("/v2/mgmt/user/update/role/add")
@router.post("/v1/mgmt/user/update/role/add")
def add_roles(body: UserRoles, s: DbSession, _: ManagementAuth) -> dict[str, Any]:
    """Add roles to a user (project-wide, or in ``tenantId``) → ``{user}``."""
    return _roles(s, body, "add")


@router.post("/v1/mgmt/user/update/role/remove")
def remove_roles(body: UserRoles, s: DbSession, _: ManagementAuth) -> dict[str, Any]:
    """Remove roles from a user (project-wide, or in ``tenantId``) → ``{user}``."""
    return _roles(s, body, "remove")


@router.post("/v1/mgmt/user/update/tenant/add")
def add_tenant(body: UserTenantChange, s: DbSession, _: ManagementAuth) -> dict[str, Any]:
    """Make a user a member of a tenant → ``{user}``."""
    return user_admin.add_tenant(s, body.login_id, body.tenant_id)


@router.post("/v1/mgmt/user/update/tenant/remove")
def remove_tenant(body: UserTenantChange, s: DbSession, _: ManagementAuth) -> dict[str, Any]:
    """Remove a user from a tenant → ``{user}``; its sessions end (their JWTs name the tenant)."""
    return user_admin.remove_tenant(s, body.login_id, body.tenant_id)
