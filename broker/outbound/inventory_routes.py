"""Extension endpoint (not part of Descope's API): every stored token's metadata, paged.

Descope has no "list all tokens" endpoint (reference §5), so a dashboard pointed at the cloud
fans out per user. Against this broker it can ask once per page instead:
``GET /v1/x/outbound/inventory?page=&limit=&appId=&status=&userText=&userId=`` answers
``{tokens, total, page, limit}``. Each token is the OutboundAppToken object *without*
``accessToken`` and ``refreshToken`` (metadata only; nothing is unsealed), plus the owner's
``userName``, ``userEmail``, ``userLoginId`` and the ``tenantName``. Reading never refreshes.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import and_, func, not_, or_, select
from sqlalchemy.sql.elements import ColumnElement

from broker.auth import ManagementAuth, broker_of
from broker.errors import InvalidArguments
from broker.identity.user_search import user_text_match
from broker.outbound.vault import (
    NEEDS_REAUTH,
    PROVIDER_METADATA_FIELD,
    REFRESH_FAILED,
    token_status,
)
from broker.store.db import now_s
from broker.store.identity import LoginId, Tenant, User
from broker.store.outbound import ManagedTokenRow

DEFAULT_LIMIT = 500
MAX_LIMIT = 2000
MAX_PAGE = 1_000_000  # keeps OFFSET inside a 64-bit integer
STATUSES = ("active", "expiring", "expired", REFRESH_FAILED, NEEDS_REAUTH)

router = APIRouter(tags=["extensions"])


def _status_filter(status: str, now: int, margin: int) -> ColumnElement[bool]:
    """SQL for ``vault.token_status(row) == status`` (same precedence)."""
    row = ManagedTokenRow
    if status in (NEEDS_REAUTH, REFRESH_FAILED):
        return row.status == status
    healthy = not_(row.status.in_((NEEDS_REAUTH, REFRESH_FAILED)))
    expires = row.access_token_expiry > 0
    if status == "expired":
        return and_(healthy, expires, row.access_token_expiry <= now)
    if status == "expiring":
        return and_(
            healthy,
            expires,
            row.access_token_expiry > now,
            row.access_token_expiry - margin <= now,
        )
    return and_(healthy, or_(not_(expires), row.access_token_expiry - margin > now))


def _unix(value: int | None) -> str:
    return str(int(value)) if value else ""


def _metadata(
    row: ManagedTokenRow,
    user: User | None,
    tenant: Tenant | None,
    login_id: str,
    now: int,
    margin: int,
) -> dict[str, Any]:
    return {
        "id": row.id,
        "appId": row.app_id,
        "userId": row.user_id,
        "tenantId": row.tenant_id,
        "tokenSub": row.token_sub,
        "accessTokenType": row.access_token_type,
        "accessTokenExpiry": str(int(row.access_token_expiry or 0)),
        "hasRefreshToken": row.refresh_token_sealed is not None,
        "lastRefreshTime": _unix(row.last_refresh_time),
        "lastRefreshError": row.last_refresh_error,
        "scopes": list(row.scopes or []),
        "grantedBy": row.granted_by,
        "externalIdentifier": row.external_identifier,
        "status": token_status(row, now, margin),
        "nextRefreshTime": _unix(row.next_refresh_time),
        "failureCount": row.failure_count,
        "requestedScopes": list(row.requested_scopes or []),
        "expiryAssumed": row.expiry_assumed,
        "tokenKind": row.kind,
        PROVIDER_METADATA_FIELD: dict(row.provider_metadata or {}),
        "userName": user.name if user else "",
        "userEmail": user.email if user else "",
        "userLoginId": login_id,
        "tenantName": tenant.name if tenant else "",
    }


@router.get("/v1/x/outbound/inventory", response_model=dict[str, Any])
def inventory(
    request: Request,
    _: ManagementAuth,
    page: int = Query(default=0),
    limit: int = Query(default=DEFAULT_LIMIT),
    app_id: str = Query(default="", alias="appId"),
    status: str = Query(default=""),
    user_text: str = Query(default="", alias="userText"),
    user_id: str = Query(default="", alias="userId"),
) -> JSONResponse:
    """A page of token metadata (an extension), ordered by user, tenant and app."""
    if not 0 <= page <= MAX_PAGE or not 0 <= limit <= MAX_LIMIT:
        raise InvalidArguments(f"page must be 0 to {MAX_PAGE} and limit 0 to {MAX_LIMIT}")
    if status and status not in STATUSES:
        raise InvalidArguments(f"status must be one of {', '.join(STATUSES)}")
    broker = broker_of(request)
    now, margin = int(now_s()), broker.settings.refresh_margin_s
    limit = limit or DEFAULT_LIMIT
    where: list[ColumnElement[bool]] = []
    if app_id:
        where.append(ManagedTokenRow.app_id == app_id)
    if user_id:
        where.append(ManagedTokenRow.user_id == user_id)
    if status:
        where.append(_status_filter(status, now, margin))
    if user_text:
        where.append(user_text_match(user_text))
    joined = (
        select(ManagedTokenRow, User, Tenant)
        .outerjoin(User, User.id == ManagedTokenRow.user_id)
        .outerjoin(Tenant, Tenant.id == ManagedTokenRow.tenant_id)
        .where(*where)
    )
    with broker.db.session() as s:
        total = s.scalar(select(func.count()).select_from(joined.subquery())) or 0
        rows = s.execute(
            joined.order_by(
                ManagedTokenRow.user_id,
                ManagedTokenRow.tenant_id,
                ManagedTokenRow.app_id,
                ManagedTokenRow.id,
            )
            .offset(page * limit)
            .limit(limit)
        ).all()
        user_ids = {r[0].user_id for r in rows if r[0].user_id}
        logins: dict[str, str] = {}
        for login in s.scalars(
            select(LoginId).where(LoginId.user_id.in_(user_ids)).order_by(LoginId.position.desc())
        ):
            logins[login.user_id] = login.login_id  # the lowest position wins (written last)
        tokens = [
            _metadata(row, user, tenant, logins.get(row.user_id, ""), now, margin)
            for row, user, tenant in rows
        ]
    # Sent as built: FastAPI's validation of 500 plain dicts per page was about a fifth of the
    # endpoint's CPU (the tokens page benchmark, docs/performance.md).
    return JSONResponse({"tokens": tokens, "total": total, "page": page, "limit": limit})
