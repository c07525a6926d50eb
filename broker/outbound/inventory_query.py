"""The inventory's filters and KPIs as SQL, so 100,000 tokens are filtered and counted by the
database and only a page travels (``inventory_routes``; docs/performance.md).

A token's ``status`` is the ``vault.token_status`` of its row, written as one SQL ``CASE`` so
a filter and a count agree with the status each row shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, and_, case, cast, distinct, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from broker.identity.user_search import user_text_match
from broker.lifecycle.vault import ACTIVE, NEEDS_REAUTH, REFRESH_FAILED
from broker.store.identity import Tenant, User
from broker.store.outbound import ManagedTokenRow

STATUSES = (ACTIVE, "expiring", "expired", REFRESH_FAILED, NEEDS_REAUTH)
FAILING = (REFRESH_FAILED, NEEDS_REAUTH)
DAY_S = 24 * 3600
T = ManagedTokenRow


def status_case(now: int, margin: int) -> ColumnElement[str]:
    """SQL for ``vault.token_status(row, now, margin)`` (same precedence)."""
    expires = T.access_token_expiry > 0
    return case(
        (T.status.in_(FAILING), T.status),
        (and_(expires, T.access_token_expiry <= now), "expired"),
        (and_(expires, T.access_token_expiry - margin <= now), "expiring"),
        else_=ACTIVE,
    )


def _contains(column: Any, text: str) -> ColumnElement[bool]:
    """Case-insensitive "``column`` contains ``text``" (``%`` and ``_`` taken literally)."""
    result: ColumnElement[bool] = func.lower(column).contains(text.lower(), autoescape=True)
    return result


@dataclass(frozen=True)
class InventoryFilter:
    """What the caller narrowed the inventory to; empty means "any"."""

    app_ids: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
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
            where.append(status_case(now, margin).in_(self.statuses))
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
    session: Session, where: list[ColumnElement[bool]], *, joined: bool, now: int, margin: int
) -> dict[str, Any]:
    """The inventory's numbers over the rows ``where`` keeps: one grouped scan, one count.

    ``connections``; ``users`` (distinct owners); ``byStatus`` and ``byApp``; ``healthy`` (a
    fetch now answers a working token without anyone acting: not failing, not expired, no
    refresh error, and renewable or never expiring); ``failing`` (``refresh_failed`` and
    ``needs_reauth``); ``expiring24h`` (valid now, lapsing within 24 h, and nothing can renew
    it: no refresh token) and ``withoutRefreshToken``.
    """
    status = status_case(now, margin).label("status")
    renewable = (T.refresh_token_sealed.is_not(None)).label("renewable")
    errored = (T.last_refresh_error != "").label("errored")
    forever = (T.access_token_expiry == 0).label("forever")
    lapsing = and_(T.access_token_expiry > now, T.access_token_expiry <= now + DAY_S).label(
        "lapsing"
    )
    groups = select(status, T.app_id, renewable, errored, forever, lapsing, func.count())
    groups = groups.select_from(T)
    users = select(func.count(distinct(T.user_id))).select_from(T).where(T.user_id != "")
    if joined:
        groups = _owner_joins(groups)
        users = _owner_joins(users)
    groups = groups.where(*where).group_by(status, T.app_id, renewable, errored, forever, lapsing)
    by_status = dict.fromkeys(STATUSES, 0)
    by_app: dict[str, int] = {}
    total = healthy = without_refresh = expiring = 0
    for st, app, can_renew, has_error, never_expires, soon, count in session.execute(groups):
        total += count
        by_status[st] = by_status.get(st, 0) + count
        by_app[app] = by_app.get(app, 0) + count
        if not can_renew:
            without_refresh += count
            expiring += count if soon else 0
        if st in (ACTIVE, "expiring") and not has_error and (can_renew or never_expires):
            healthy += count
    return {
        "connections": total,
        "users": session.scalar(users.where(*where)) or 0,
        "byStatus": by_status,
        "byApp": dict(sorted(by_app.items())),
        "healthy": healthy,
        "failing": by_status[REFRESH_FAILED] + by_status[NEEDS_REAUTH],
        "expiring24h": expiring,
        "withoutRefreshToken": without_refresh,
    }


def _owner_joins(query: Any) -> Any:
    """``query`` with the token's user and tenant outer-joined (for the text filters)."""
    return query.outerjoin(User, User.id == T.user_id).outerjoin(Tenant, Tenant.id == T.tenant_id)
