"""The inventory's queries (the service ``inventory_routes`` calls): a page, its filters and
its KPIs as SQL, so 100,000 tokens are filtered and counted by the database and only a page
travels (docs/performance.md).

A token's ``status`` is ``lifecycle.status.status_sql``, the SQL twin of the rule each row's
wire ``status`` comes from, so a filter and a count agree with the status each row shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, and_, cast, distinct, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from broker.identity.user_search import user_text_match
from broker.lifecycle.status import detailed_status_sql, status_sql
from broker.lifecycle.status_names import (
    DETAILED_STATUSES,
    STATUSES,
    STORED_FAILING,
    TokenStatus,
)
from broker.lifecycle.vault import token_fields
from broker.store.db import Database
from broker.store.identity import LoginId, Tenant, User
from broker.store.outbound import ManagedTokenRow

DAY_S = 24 * 3600
T = ManagedTokenRow


def _contains(column: Any, text: str) -> ColumnElement[bool]:
    """Case-insensitive "``column`` contains ``text``" (``%`` and ``_`` taken literally)."""
    result: ColumnElement[bool] = func.lower(column).contains(text.lower(), autoescape=True)
    return result


@dataclass(frozen=True)
class InventoryFilter:
    """What the caller narrowed the inventory to; empty means "any"."""

    app_ids: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    details: tuple[str, ...] = ()  # ``DetailedStatus`` values, with ``soon`` as their window
    soon: int = DAY_S
    user_text: str = ""
    user_id: str = ""
    tenant_text: str = ""
    scope_text: str = ""

    def where(self, now: int, margin: int) -> list[ColumnElement[bool]]:
        """The SQL conditions (the query outer-joins ``User`` and ``Tenant``)."""
        where: list[ColumnElement[bool]] = []
        if self.app_ids:
            where.append(T.app_id.in_(self.app_ids))
        if self.user_id:
            where.append(T.user_id == self.user_id)
        if self.statuses:
            where.append(status_sql(now, margin).in_(self.statuses))
        if self.details:
            where.append(detailed_status_sql(now, margin, self.soon).in_(self.details))
        if text := self.user_text.strip():
            where.append(user_text_match(text))
        if text := self.tenant_text.strip():
            where.append(or_(_contains(Tenant.name, text), _contains(T.tenant_id, text)))
        if text := self.scope_text.strip():
            where.append(_contains(cast(T.scopes, String), text))
        return where

    @property
    def joins_owner(self) -> bool:
        """Whether a condition reads the user's or the tenant's row."""
        return bool(self.user_text.strip() or self.tenant_text.strip())


def kpis(
    session: Session,
    where: list[ColumnElement[bool]],
    *,
    joined: bool,
    now: int,
    margin: int,
    soon: int,
) -> dict[str, Any]:
    """The inventory's numbers over the rows ``where`` keeps: one grouped scan, one count.

    ``connections``; ``users`` (distinct owners); ``byStatus`` and ``byApp``; ``byDetail`` (by
    ``DetailedStatus``, ``soon`` its window: what the dashboard's charts break down); ``healthy`` (a
    fetch now answers a working token without anyone acting: not failing, not expired, no
    refresh error, and renewable or never expiring); ``failing`` (``refresh_failed`` and
    ``needs_reauth``, and a refresh error on a token not yet expired: the dashboard's "Failing
    refreshes"); ``expiring24h`` (valid now, lapsing within 24 h, and nothing can renew
    it: no refresh token); ``ending24h`` (valid now, lapsing within 24 h, and no *working*
    refresh token: none, or its refresh is failing; the dashboard's "Ending within 24 h") and
    ``withoutRefreshToken``.
    """
    status = status_sql(now, margin).label("status")
    renewable = (T.refresh_token_sealed.is_not(None)).label("renewable")
    errored = (T.last_refresh_error != "").label("errored")
    forever = (T.access_token_expiry == 0).label("forever")
    lapsing = and_(T.access_token_expiry > now, T.access_token_expiry <= now + DAY_S).label(
        "lapsing"
    )
    detail = detailed_status_sql(now, margin, soon).label("detail")
    groups = select(status, detail, T.app_id, renewable, errored, forever, lapsing, func.count())
    groups = groups.select_from(T)
    users = select(func.count(distinct(T.user_id))).select_from(T).where(T.user_id != "")
    if joined:
        groups = _owner_joins(groups)
        users = _owner_joins(users)
    groups = groups.where(*where).group_by(
        status, detail, T.app_id, renewable, errored, forever, lapsing
    )
    by_status = dict.fromkeys(STATUSES, 0)
    by_detail = dict.fromkeys(DETAILED_STATUSES, 0)
    by_app: dict[str, int] = {}
    total = healthy = without_refresh = expiring = ending = failing = 0
    for row in session.execute(groups):
        st, fine, app, can_renew, has_error, never_expires, in_a_day, count = row
        total += count
        by_status[st] = by_status.get(st, 0) + count
        by_detail[fine] = by_detail.get(fine, 0) + count
        by_app[app] = by_app.get(app, 0) + count
        if not can_renew:
            without_refresh += count
            expiring += count if in_a_day else 0
        refresh_fails = st in STORED_FAILING or (has_error and st != TokenStatus.EXPIRED)
        failing += count if refresh_fails else 0
        if in_a_day and (refresh_fails or not can_renew):
            ending += count
        if (
            st in (TokenStatus.ACTIVE, TokenStatus.EXPIRING)
            and not has_error
            and (can_renew or never_expires)
        ):
            healthy += count
    return {
        "connections": total,
        "users": session.scalar(users.where(*where)) or 0,
        "byStatus": by_status,
        "byDetail": by_detail,
        "byApp": dict(sorted(by_app.items())),
        "healthy": healthy,
        "failing": failing,
        "expiring24h": expiring,
        "ending24h": ending,
        "withoutRefreshToken": without_refresh,
    }


def _owner_joins(query: Any) -> Any:
    """``query`` with the token's user and tenant outer-joined (for the text filters)."""
    return query.outerjoin(User, User.id == T.user_id).outerjoin(Tenant, Tenant.id == T.tenant_id)


# The columns a page reads (Core rows, no ORM identity map: 500 rows of three entities cost
# more to build than to read).
_PAGE_COLUMNS = (
    T.id,
    T.app_id,
    T.user_id,
    T.tenant_id,
    T.token_sub,
    T.access_token_type,
    T.access_token_expiry,
    T.refresh_token_sealed.is_not(None).label("has_refresh"),
    T.last_refresh_time,
    T.last_refresh_error,
    T.scopes,
    T.granted_by,
    T.external_identifier,
    T.next_refresh_time,
    T.failure_count,
    T.requested_scopes,
    T.expiry_assumed,
    T.kind,
    T.provider_metadata,
    User.name.label("user_name"),
    User.email.label("user_email"),
    Tenant.name.label("tenant_name"),
)


def _metadata(row: Any, login_id: str) -> dict[str, Any]:
    """A page's token: its wire shape without the tokens, plus its owner's names."""
    body = token_fields(
        row, row.computed_status, has_refresh=bool(row.has_refresh), access_token=None
    )
    body.update(
        {
            "userName": row.user_name or "",
            "userEmail": row.user_email or "",
            "userLoginId": login_id,
            "tenantName": row.tenant_name or "",
        }
    )
    return body


def inventory_page(
    db: Database,
    chosen: InventoryFilter,
    *,
    page: int,
    limit: int,
    with_kpis: bool,
    now: int,
    margin: int,
) -> dict[str, Any]:
    """``{tokens, total, page, limit}`` of the tokens ``chosen`` keeps (and ``kpis`` when
    asked), ordered by the owner's name as the tokens page shows it (``store.owners``), then
    app, with the owner's name, email, first login id and tenant name; metadata only: nothing
    is unsealed."""
    where = chosen.where(now, margin)
    status = status_sql(now, margin).label("computed_status")
    rows_query = (
        select(*_PAGE_COLUMNS, status)
        .select_from(T)
        .outerjoin(User, User.id == T.user_id)
        .outerjoin(Tenant, Tenant.id == T.tenant_id)
        .where(*where)
        .order_by(T.owner_sort, T.app_id, T.id)  # an index's order: no sort per page
        .offset(page * limit)
        .limit(limit)
    )
    counted = select(func.count()).select_from(T)
    if chosen.joins_owner:  # the count needs the joins only when a condition reads them
        counted = counted.outerjoin(User, User.id == T.user_id).outerjoin(
            Tenant, Tenant.id == T.tenant_id
        )
    with db.session() as s:
        numbers = (
            kpis(s, where, joined=chosen.joins_owner, now=now, margin=margin, soon=chosen.soon)
            if with_kpis
            else None
        )
        total = numbers["connections"] if numbers else s.scalar(counted.where(*where)) or 0
        rows = s.execute(rows_query).all()
        user_ids = {r.user_id for r in rows if r.user_id}
        logins: dict[str, str] = {}
        for user, login in s.execute(
            select(LoginId.user_id, LoginId.login_id)
            .where(LoginId.user_id.in_(user_ids))
            .order_by(LoginId.position.desc())
        ):
            logins[user] = login  # the lowest position wins (written last)
    tokens = [_metadata(r, logins.get(r.user_id, "")) for r in rows]
    answer: dict[str, Any] = {"tokens": tokens, "total": total, "page": page, "limit": limit}
    if numbers is not None:
        answer["kpis"] = numbers
    return answer
