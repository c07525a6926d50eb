"""User search (``/v2/mgmt/user/search``): filters, paging from page 0, sort; ``{users, total}``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, cast, exists, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from broker.identity.users import check_status, normalize_login_id, user_responses
from broker.identity.wire import UserSearch
from broker.store.identity import LoginId, User, UserTenant

# ``limit: 0`` means the default page size (search_all() sends it), not zero results.
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

SORTABLE = {
    "userId": User.id,
    "name": User.name,
    "givenName": User.given_name,
    "familyName": User.family_name,
    "email": User.email,
    "phone": User.phone,
    "status": User.status,
    "createdTime": User.created_time,
    "modifiedTime": User.modified_time,
}


def _filters(req: UserSearch) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if req.test_users_only:
        where.append(User.test.is_(True))
    elif not req.with_test_user:
        where.append(User.test.is_(False))
    if req.statuses:
        where.append(User.status.in_([check_status(x) for x in req.statuses]))
    if req.user_ids:
        where.append(User.id.in_(req.user_ids))
    if req.emails:
        where.append(func.lower(User.email).in_([e.lower() for e in req.emails]))
    if req.phones:
        where.append(User.phone.in_(req.phones))
    if req.login_ids:
        wanted = [normalize_login_id(x) for x in req.login_ids]
        where.append(exists().where(LoginId.user_id == User.id, LoginId.login_id.in_(wanted)))
    if req.tenant_ids:
        where.append(
            exists().where(UserTenant.user_id == User.id, UserTenant.tenant_id.in_(req.tenant_ids))
        )
    if req.role_names:
        # Roles are a JSON array; its text holds each name quoted, on SQLite and PostgreSQL alike.
        roles_text = cast(User.role_names, String)
        where.append(or_(*(roles_text.contains(f'"{r}"') for r in req.role_names)))
    if req.text:
        where.append(user_text_match(req.text))
    # Time filters are in milliseconds on the wire; the store keeps seconds.
    if req.from_created_time is not None:
        where.append(User.created_time >= req.from_created_time // 1000)
    if req.to_created_time is not None:
        where.append(User.created_time <= req.to_created_time // 1000)
    if req.from_modified_time is not None:
        where.append(User.modified_time >= req.from_modified_time // 1000)
    if req.to_modified_time is not None:
        where.append(User.modified_time <= req.to_modified_time // 1000)
    return where


def user_text_match(text: str) -> ColumnElement[bool]:
    """Users whose name, email, phone, id or a login id holds ``text``, ignoring case.

    Matched literally: ``autoescape`` escapes LIKE's own wildcards (``%`` and ``_``), so a
    search for ``%`` finds a percent sign, not every user. The user search and the token
    inventory both filter through here.
    """
    text = text.lower()
    return or_(
        func.lower(User.name).contains(text, autoescape=True),
        func.lower(User.email).contains(text, autoescape=True),
        User.phone.contains(text, autoescape=True),
        func.lower(User.id).contains(text, autoescape=True),
        exists().where(
            LoginId.user_id == User.id, LoginId.login_id.contains(text, autoescape=True)
        ),
    )


def search_users(s: Session, req: UserSearch) -> dict[str, Any]:
    """One page of the users matching ``req``, with the total across pages."""
    where = _filters(req)
    total = s.scalar(select(func.count()).select_from(User).where(*where)) or 0
    limit = min(req.limit or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    order = [
        SORTABLE[k.field].desc() if k.desc else SORTABLE[k.field].asc()
        for k in req.sort or []
        if k.field in SORTABLE
    ]
    query = (
        select(User)
        .where(*where)
        .order_by(*order, User.created_time, User.id)
        .limit(limit)
        .offset((req.page or 0) * limit)
    )
    return {"users": user_responses(s, s.scalars(query)), "total": total}
