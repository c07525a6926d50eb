"""What the management API does to users, each step inside the caller's session (unit of work).

The handlers in ``mgmt_routes`` take the request's ``DbSession`` and call these; the queries live
here and in ``users``/``sessions``. Any change that can widen what a held JWT claims (status,
password, roles, tenants) ends the user's sessions in the same transaction.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy.orm import Session

from broker.context import Broker
from broker.errors import MissingArguments
from broker.identity.sessions import revoke_sessions, sign_in
from broker.identity.users import (
    change_roles,
    check_status,
    create_user,
    find_user,
    get_user,
    join_tenant,
    leave_tenant,
    touch,
    user_response,
    user_responses,
)
from broker.identity.wire import AssociatedTenant, UserCreate
from broker.store.identity import User
from broker.store.owners import resort


def sign_in_as(broker: Broker, login_id: str) -> dict[str, Any]:
    """Embedded sign-in: a session for an existing user, without its credentials.

    Its own transactions, not the request's: the session row must be committed before the JWTs
    naming it go out.
    """
    with broker.db.session() as s:
        user_id = get_user(s, login_id=login_id).id
    return sign_in(broker, user_id, ["mgmt"])


def create(s: Session, body: UserCreate, password_hash: str | None) -> dict[str, Any]:
    """A new user → ``{user}`` (409 E062107 if a login id is taken)."""
    return {"user": user_response(s, create_user(s, body, password_hash=password_hash))}


def load(s: Session, login_id: str | None, user_id: str | None) -> dict[str, Any]:
    """One user by login id or user id → ``{user}`` (404 E112102 if none)."""
    return {"user": user_response(s, get_user(s, login_id=login_id, user_id=user_id))}


def load_many(s: Session, user_ids: list[str]) -> dict[str, Any]:
    """Users by id → ``{users}``; ids with no user are left out."""
    users = [u for u in (s.get(User, i) for i in user_ids) if u is not None]
    return {"users": user_responses(s, users)}


def set_status(s: Session, login_id: str, status: str) -> dict[str, Any]:
    """Enable or disable a user → ``{user}``; anything but enabled ends its sessions."""
    user = get_user(s, login_id=login_id)
    user.status = check_status(status)
    if user.status != "enabled":
        revoke_sessions(s, user.id)
    touch(user)
    return {"user": user_response(s, user)}


def sign_out(s: Session, login_id: str | None, user_id: str | None) -> None:
    """End every session of the user."""
    revoke_sessions(s, get_user(s, login_id=login_id, user_id=user_id).id)


def delete(s: Session, login_id: str | None, user_id: str | None) -> None:
    """Delete a user with its sessions and memberships; nothing happens if there is none."""
    if not login_id and not user_id:
        raise MissingArguments("loginId or userId is required")
    user = find_user(s, login_id) if login_id else s.get(User, user_id)
    if user is not None:
        s.delete(user)
        resort(s, user.id)  # its tokens stay, named by the user id


def set_password(s: Session, login_id: str, password_hash: str, *, active: bool) -> None:
    """A new password (born expired unless ``active``); every session of the user ends."""
    user = get_user(s, login_id=login_id)
    user.password_hash = password_hash
    user.password_expired = not active
    revoke_sessions(s, user.id)
    touch(user)


def expire_password(s: Session, login_id: str | None, user_id: str | None) -> None:
    """The password no longer signs in; every session of the user ends."""
    user = get_user(s, login_id=login_id, user_id=user_id)
    user.password_expired = True
    revoke_sessions(s, user.id)
    touch(user)


def change_user_roles(
    s: Session,
    login_id: str,
    roles: list[str],
    how: Literal["set", "add", "remove"],
    tenant_id: str | None,
) -> dict[str, Any]:
    """Set, add or remove roles (project-wide, or in ``tenant_id``) → ``{user}``."""
    user = get_user(s, login_id=login_id)
    if change_roles(s, user, roles, how, tenant_id):
        # Every JWT carries the roles it was minted with: a role taken away must not live on.
        revoke_sessions(s, user.id)
    return {"user": user_response(s, user)}


def add_tenant(s: Session, login_id: str, tenant_id: str) -> dict[str, Any]:
    """Make the user a member of a tenant → ``{user}``."""
    user = get_user(s, login_id=login_id)
    join_tenant(s, user, AssociatedTenant(tenant_id=tenant_id))
    s.flush()
    return {"user": user_response(s, user)}


def remove_tenant(s: Session, login_id: str, tenant_id: str) -> dict[str, Any]:
    """Take the user out of a tenant → ``{user}``; its sessions end (their JWTs name the tenant)."""
    user = get_user(s, login_id=login_id)
    if leave_tenant(s, user, tenant_id):
        revoke_sessions(s, user.id)
    return {"user": user_response(s, user)}
