"""Users of the local project: creation, lookup by login id, roles, tenants, the UserResponse shape."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, Literal, get_args

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from broker.errors import (
    MANAGEMENT_USER_NOT_FOUND,
    Conflict,
    InvalidArguments,
    MissingArguments,
    UserNotFound,
)
from broker.identity.wire import AssociatedTenant, UserCreate
from broker.project.credentials import new_id
from broker.store.db import now_s
from broker.store.identity import LoginId, Tenant, User, UserTenant

UserStatus = Literal["enabled", "disabled", "invited", "expired"]
STATUSES: tuple[str, ...] = get_args(UserStatus)


class ManagementUserNotFound(UserNotFound):
    """No such user, as the management API says it (404 E112102)."""

    code = MANAGEMENT_USER_NOT_FOUND


def normalize_login_id(login_id: str) -> str:
    """Login ids are matched without regard to case or surrounding spaces."""
    return login_id.strip().lower()


def check_status(status: str) -> str:
    """400 unless ``status`` is one of Descope's user statuses."""
    if status not in STATUSES:
        raise InvalidArguments(f"Invalid status; must be one of: {', '.join(STATUSES)}")
    return status


def find_user(s: Session, login_id: str) -> User | None:
    """The user holding ``login_id``, if any."""
    row = s.get(LoginId, normalize_login_id(login_id))
    return s.get(User, row.user_id) if row else None


def get_user(s: Session, *, login_id: str | None = None, user_id: str | None = None) -> User:
    """The user named by login id or user id; 404 E112102 when there is none."""
    if not login_id and not user_id:
        raise MissingArguments("loginId or userId is required")
    user = find_user(s, login_id) if login_id else s.get(User, user_id)
    if user is None:
        raise ManagementUserNotFound("User not found")
    return user


def create_user(s: Session, body: UserCreate, *, password_hash: str | None = None) -> User:
    """Create a user with its login ids and tenant memberships; 409 E062107 if a login id is taken."""
    login_ids = [normalize_login_id(x) for x in [body.login_id, *(body.additional_login_ids or [])]]
    if not login_ids[0]:
        raise MissingArguments("loginId is required")
    if any(s.get(LoginId, x) is not None for x in login_ids):
        raise Conflict("User already exists", description="User already exists")
    status = check_status(body.status or ("invited" if body.invite else "enabled"))
    t = int(now_s())
    user = User(
        id=new_id("U"),
        name=body.display_name or "",
        given_name=body.given_name or "",
        middle_name=body.middle_name or "",
        family_name=body.family_name or "",
        email=body.email or "",
        phone=body.phone or "",
        verified_email=bool(body.verified_email),
        verified_phone=bool(body.verified_phone),
        picture=body.picture or "",
        status=status,
        test=bool(body.test),
        role_names=list(body.role_names or []),
        custom_attributes=dict(body.custom_attributes or {}),
        password_hash=password_hash,
        created_time=t,
        modified_time=t,
    )
    s.add(user)
    s.flush()  # the login ids refer to the user (no ORM relationship orders the inserts)
    for position, login_id in enumerate(dict.fromkeys(login_ids)):
        s.add(LoginId(login_id=login_id, user_id=user.id, position=position))
    for membership in body.user_tenants or []:
        join_tenant(s, user, membership)
    try:
        s.flush()
    except IntegrityError as exc:  # another request took the login id meanwhile
        raise Conflict("User already exists", description="User already exists") from exc
    return user


def join_tenant(s: Session, user: User, membership: AssociatedTenant) -> None:
    """Add ``user`` to a tenant (roles merged if already a member); 400 for an unknown tenant."""
    if s.get(Tenant, membership.tenant_id) is None:
        raise InvalidArguments("Unknown tenant")
    row = s.get(UserTenant, (user.id, membership.tenant_id))
    roles = list(membership.role_names or [])
    if row is None:
        s.add(UserTenant(user_id=user.id, tenant_id=membership.tenant_id, role_names=roles))
    else:
        row.role_names = list(dict.fromkeys([*row.role_names, *roles]))
    touch(user)


def leave_tenant(s: Session, user: User, tenant_id: str) -> bool:
    """Remove ``user`` from a tenant; whether it was a member."""
    removed = s.execute(
        delete(UserTenant).where(UserTenant.user_id == user.id, UserTenant.tenant_id == tenant_id)
    )
    touch(user)
    return bool(getattr(removed, "rowcount", 0))


def change_roles(
    s: Session,
    user: User,
    roles: Sequence[str],
    how: Literal["set", "add", "remove"],
    tenant_id: str | None = None,
) -> bool:
    """Set, add or remove roles of the user, project-wide or within one tenant it belongs to.

    Answers whether a role the user held was taken away.
    """
    if tenant_id:
        membership = s.get(UserTenant, (user.id, tenant_id))
        if membership is None:
            raise InvalidArguments("User is not a member of the tenant")
        before = list(membership.role_names)
        membership.role_names = _apply(before, roles, how)
        after = membership.role_names
    else:
        before = list(user.role_names)
        user.role_names = _apply(before, roles, how)
        after = user.role_names
    touch(user)
    return not set(before) <= set(after)


def _apply(current: Sequence[str], roles: Sequence[str], how: str) -> list[str]:
    if how == "set":
        return list(dict.fromkeys(roles))
    if how == "add":
        return list(dict.fromkeys([*current, *roles]))
    return [r for r in current if r not in set(roles)]


def touch(user: User) -> None:
    """Record a modification of the user."""
    user.modified_time = int(now_s())


def user_responses(s: Session, users: Iterable[User]) -> list[dict[str, Any]]:
    """Descope's UserResponse for each user, with login ids and tenants loaded in two queries."""
    users = list(users)
    ids = [u.id for u in users]
    logins: dict[str, list[str]] = defaultdict(list)
    for row in s.scalars(
        select(LoginId).where(LoginId.user_id.in_(ids)).order_by(LoginId.position)
    ):
        logins[row.user_id].append(row.login_id)
    tenants: dict[str, list[dict[str, Any]]] = defaultdict(list)
    memberships = s.execute(
        select(UserTenant, Tenant.name)
        .join(Tenant, Tenant.id == UserTenant.tenant_id)
        .where(UserTenant.user_id.in_(ids))
        .order_by(Tenant.name)
    )
    for membership, tenant_name in memberships:
        tenants[membership.user_id].append(
            {
                "tenantId": membership.tenant_id,
                "tenantName": tenant_name,
                "roleNames": list(membership.role_names),
                "permissions": [],
            }
        )
    return [_user_response(u, logins[u.id], tenants[u.id]) for u in users]


def own_user(s: Session, user_id: str | None) -> dict[str, Any]:
    """The signed-in user's UserResponse (404 E062108 when the user is gone)."""
    user = s.get(User, user_id) if user_id else None
    if user is None:
        raise UserNotFound("User not found")
    return user_response(s, user)


def user_response(s: Session, user: User) -> dict[str, Any]:
    """Descope's UserResponse for one user."""
    return user_responses(s, [user])[0]


def _user_response(
    user: User, login_ids: list[str], tenants: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "userId": user.id,
        "loginIds": login_ids,
        "name": user.name,
        "givenName": user.given_name,
        "middleName": user.middle_name,
        "familyName": user.family_name,
        "email": user.email,
        "phone": user.phone,
        "verifiedEmail": user.verified_email,
        "verifiedPhone": user.verified_phone,
        "picture": user.picture,
        "roleNames": list(user.role_names),
        "userTenants": tenants,
        "status": user.status,
        "test": user.test,
        "customAttributes": dict(user.custom_attributes),
        "createdTime": user.created_time,
        "TOTP": False,
        "SAML": False,
        "SCIM": False,
        "OAuth": {},
        "webauthn": False,
        "password": user.password_hash is not None,
        "ssoAppIds": [],
        "externalIds": login_ids,
        "editable": True,
    }
