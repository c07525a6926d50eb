"""Descope management endpoints for identity: license, management sign-in, users, the outbox."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request

from broker.context import Broker, broker_of
from broker.errors import MissingArguments, NotFound
from broker.identity.auth import ManagementAuth
from broker.identity.otp import latest_messages
from broker.identity.passwords import hash_password
from broker.identity.sessions import revoke_sessions, sign_in
from broker.identity.throttle import hash_slots
from broker.identity.user_search import search_users
from broker.identity.users import (
    change_roles,
    check_status,
    create_user,
    find_user,
    get_user,
    join_tenant,
    leave_tenant,
    normalize_login_id,
    touch,
    user_response,
    user_responses,
)
from broker.identity.wire import (
    AssociatedTenant,
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
from broker.store.identity import User

router = APIRouter(tags=["management"])


@router.get("/v1/mgmt/license")
def license_tier(_: ManagementAuth) -> dict[str, str]:
    """The SDK start-up handshake: this broker has no rate-limit tiers."""
    return {"rateLimitTier": "tier1"}


@router.post("/v1/mgmt/auth/signin")
def management_sign_in(body: MgmtSignIn, request: Request, _: ManagementAuth) -> dict[str, Any]:
    """Embedded sign-in: a session for an existing user without its credentials (tests, tools)."""
    broker = broker_of(request)
    with broker.db.session() as s:
        user_id = get_user(s, login_id=body.login_id).id
    return sign_in(broker, user_id, ["mgmt"])


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


def _create(request: Request, body: UserCreate, *, test: bool) -> dict[str, Any]:
    broker = broker_of(request)
    slot = hash_slots(broker).held()
    password_hash = hash_password(body.password, slot) if body.password else None
    with broker.db.session() as s:
        user = create_user(s, body.model_copy(update={"test": test}), password_hash=password_hash)
        return {"user": user_response(s, user)}


@router.post("/v1/mgmt/user/create")
def create(body: UserCreate, request: Request, _: ManagementAuth) -> dict[str, Any]:
    """Create a user → ``{user}`` (409 E062107 if a login id is taken)."""
    return _create(request, body, test=bool(body.test))


@router.post("/v1/mgmt/user/create/test")
def create_test(body: UserCreate, request: Request, _: ManagementAuth) -> dict[str, Any]:
    """Create a test user → ``{user}``; test users are left out of searches by default."""
    return _create(request, body, test=True)


@router.get("/v1/mgmt/user")
def load(
    request: Request,
    _: ManagementAuth,
    login_id: str | None = Query(default=None, alias="loginId"),
    user_id: str | None = Query(default=None, alias="userId"),
) -> dict[str, Any]:
    """Load one user by ``loginId`` or ``userId`` → ``{user}`` (404 E112102 if none)."""
    with broker_of(request).db.session() as s:
        return {"user": user_response(s, get_user(s, login_id=login_id, user_id=user_id))}


@router.post("/v1/mgmt/users/load")
def load_many(body: UsersLoad, request: Request, _: ManagementAuth) -> dict[str, Any]:
    """Load users by id → ``{users}``; ids with no user are left out."""
    with broker_of(request).db.session() as s:
        users = [u for u in (s.get(User, i) for i in body.user_ids) if u is not None]
        return {"users": user_responses(s, users)}


@router.post("/v2/mgmt/user/search")
@router.post("/v1/mgmt/user/search")
def search(body: UserSearch, request: Request, _: ManagementAuth) -> dict[str, Any]:
    """Search users → ``{users, total}``; ``limit: 0`` is the default page size, pages from 0."""
    with broker_of(request).db.session() as s:
        return search_users(s, body)


@router.post("/v1/mgmt/user/update/status")
def update_status(body: StatusChange, request: Request, _: ManagementAuth) -> dict[str, Any]:
    """Enable or disable a user → ``{user}``; disabling ends every session it holds."""
    with broker_of(request).db.session() as s:
        user = get_user(s, login_id=body.login_id)
        user.status = check_status(body.status)
        if user.status != "enabled":
            revoke_sessions(s, user.id)
        touch(user)
        return {"user": user_response(s, user)}


@router.post("/v1/mgmt/user/logout")
def logout_user(body: UserRef, request: Request, _: ManagementAuth) -> dict[str, Any]:
    """Sign a user out everywhere (by ``loginId`` or ``userId``): its refresh JWTs stop working."""
    with broker_of(request).db.session() as s:
        user = get_user(s, login_id=body.login_id, user_id=body.user_id)
        revoke_sessions(s, user.id)
    return {}


@router.post("/v1/mgmt/user/delete")
def delete(body: UserRef, request: Request, _: ManagementAuth) -> dict[str, Any]:
    """Delete a user with its sessions and memberships (nothing happens if there is none)."""
    if not body.login_id and not body.user_id:
        raise MissingArguments("loginId or userId is required")
    with broker_of(request).db.session() as s:
        user = find_user(s, body.login_id) if body.login_id else s.get(User, body.user_id)
        if user is not None:
            s.delete(user)
    return {}


def _set_password(request: Request, body: UserPassword, *, active: bool) -> dict[str, Any]:
    broker = broker_of(request)
    password_hash = hash_password(body.password, hash_slots(broker).held())
    with broker.db.session() as s:
        user = get_user(s, login_id=body.login_id)
        user.password_hash = password_hash
        user.password_expired = not active
        revoke_sessions(s, user.id)
        touch(user)
    return {}


@router.post("/v1/mgmt/user/password/set/active")
def set_active_password(body: UserPassword, request: Request, _: ManagementAuth) -> dict[str, Any]:
    """Set a user's password (policy applies), usable at once; every session of the user ends."""
    return _set_password(request, body, active=True)


@router.post("/v1/mgmt/user/password/set/temporary")
@router.post("/v1/mgmt/user/password/set")
def set_temporary_password(
    body: UserPassword, request: Request, _: ManagementAuth
) -> dict[str, Any]:
    """Set a password born expired (as Descope's ``set/temporary`` and deprecated ``set`` do):
    it must be replaced before it signs in; every session of the user ends."""
    return _set_password(request, body, active=False)


@router.post("/v1/mgmt/user/password/expire")
def expire_password(body: UserRef, request: Request, _: ManagementAuth) -> dict[str, Any]:
    """Expire a user's password: it no longer signs in, and every session ends."""
    with broker_of(request).db.session() as s:
        user = get_user(s, login_id=body.login_id, user_id=body.user_id)
        user.password_expired = True
        revoke_sessions(s, user.id)
        touch(user)
    return {}


def _roles(broker: Broker, body: UserRoles, how: Literal["set", "add", "remove"]) -> dict[str, Any]:
    with broker.db.session() as s:
        user = get_user(s, login_id=body.login_id)
        if change_roles(s, user, body.role_names or [], how, body.tenant_id):
            # Every JWT carries the roles it was minted with: a role taken away must not live on.
            revoke_sessions(s, user.id)
        return {"user": user_response(s, user)}


@router.post("/v1/mgmt/user/update/role/set")
def set_roles(body: UserRoles, request: Request, _: ManagementAuth) -> dict[str, Any]:
    """Replace a user's roles (project-wide, or in ``tenantId``) → ``{user}``."""
    return _roles(broker_of(request), body, "set")


@router.post("/v2/mgmt/user/update/role/add")
@router.post("/v1/mgmt/user/update/role/add")
def add_roles(body: UserRoles, request: Request, _: ManagementAuth) -> dict[str, Any]:
    """Add roles to a user (project-wide, or in ``tenantId``) → ``{user}``."""
    return _roles(broker_of(request), body, "add")


@router.post("/v1/mgmt/user/update/role/remove")
def remove_roles(body: UserRoles, request: Request, _: ManagementAuth) -> dict[str, Any]:
    """Remove roles from a user (project-wide, or in ``tenantId``) → ``{user}``."""
    return _roles(broker_of(request), body, "remove")


@router.post("/v1/mgmt/user/update/tenant/add")
def add_tenant(body: UserTenantChange, request: Request, _: ManagementAuth) -> dict[str, Any]:
    """Make a user a member of a tenant → ``{user}``."""
    with broker_of(request).db.session() as s:
        user = get_user(s, login_id=body.login_id)
        join_tenant(s, user, AssociatedTenant(tenant_id=body.tenant_id))
        s.flush()
        return {"user": user_response(s, user)}


@router.post("/v1/mgmt/user/update/tenant/remove")
def remove_tenant(body: UserTenantChange, request: Request, _: ManagementAuth) -> dict[str, Any]:
    """Remove a user from a tenant → ``{user}``; its sessions end (their JWTs name the tenant)."""
    with broker_of(request).db.session() as s:
        user = get_user(s, login_id=body.login_id)
        if leave_tenant(s, user, body.tenant_id):
            revoke_sessions(s, user.id)  # the JWTs it holds still name the tenant and its roles
        return {"user": user_response(s, user)}
