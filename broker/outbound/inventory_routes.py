"""Extension endpoint (not part of Descope's API): every stored token's metadata, paged.

Descope has no "list all tokens" endpoint (reference §5), so a dashboard pointed at the cloud
fans out per user. Against this broker it can ask once per page instead:
``GET /v1/x/outbound/inventory?page=&limit=&appId=&status=&userText=&userId=&tenantText=
&scopeText=&kpis=`` answers ``{tokens, total, page, limit}`` (and ``kpis`` when asked).
``appId`` and ``status`` may repeat (any of them); the text filters are case-insensitive
"contains" (``userText`` over the owner's name, email, login ids and user id; ``tenantText``
over the tenant's name and id; ``scopeText`` over the granted scopes). Each token is the
OutboundAppToken object *without* ``accessToken`` and ``refreshToken`` (metadata only; nothing
is unsealed), plus the owner's ``userName``, ``userEmail``, ``userLoginId`` and the
``tenantName``. ``kpis=true`` adds the numbers of the whole filtered set, computed by the
database (``inventory_query.kpis``). Reading never refreshes.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from broker.context import broker_of
from broker.errors import InvalidArguments
from broker.identity.auth import ManagementAuth
from broker.lifecycle.vault import PROVIDER_METADATA_FIELD
from broker.outbound.inventory_query import STATUSES, InventoryFilter, kpis, status_case
from broker.store.db import now_s
from broker.store.identity import LoginId, Tenant, User
from broker.store.outbound import ManagedTokenRow as T

DEFAULT_LIMIT = 500
MAX_LIMIT = 2000
MAX_PAGE = 1_000_000  # keeps OFFSET inside a 64-bit integer
MAX_VALUES = 100  # repeated appId / status values
MAX_TEXT = 256

router = APIRouter(tags=["extensions"])

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


def _unix(value: int | None) -> str:
    return str(int(value)) if value else ""


def _metadata(row: Any, status: str, login_id: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "appId": row.app_id,
        "userId": row.user_id,
        "tenantId": row.tenant_id,
        "tokenSub": row.token_sub,
        "accessTokenType": row.access_token_type,
        "accessTokenExpiry": str(int(row.access_token_expiry or 0)),
        "hasRefreshToken": bool(row.has_refresh),
        "lastRefreshTime": _unix(row.last_refresh_time),
        "lastRefreshError": row.last_refresh_error,
        "scopes": list(row.scopes or []),
        "grantedBy": row.granted_by,
        "externalIdentifier": row.external_identifier,
        "status": status,
        "nextRefreshTime": _unix(row.next_refresh_time),
        "failureCount": row.failure_count,
        "requestedScopes": list(row.requested_scopes or []),
        "expiryAssumed": bool(row.expiry_assumed),
        "tokenKind": row.kind,
        PROVIDER_METADATA_FIELD: dict(row.provider_metadata or {}),
        "userName": row.user_name or "",
        "userEmail": row.user_email or "",
        "userLoginId": login_id,
        "tenantName": row.tenant_name or "",
    }


def _checked(
    page: int, limit: int, app_ids: list[str], statuses: list[str], texts: tuple[str, ...]
) -> None:
    if not 0 <= page <= MAX_PAGE or not 0 <= limit <= MAX_LIMIT:
        raise InvalidArguments(f"page must be 0 to {MAX_PAGE} and limit 0 to {MAX_LIMIT}")
    if len(app_ids) > MAX_VALUES or len(statuses) > MAX_VALUES:
        raise InvalidArguments(f"at most {MAX_VALUES} appId and status values")
    if unknown := [s for s in statuses if s not in STATUSES]:
        raise InvalidArguments(f"status must be one of {', '.join(STATUSES)}, not {unknown[0]!r}")
    if any(len(t) > MAX_TEXT for t in texts):
        raise InvalidArguments(f"a text filter is at most {MAX_TEXT} characters")


@router.get("/v1/x/outbound/inventory", response_model=dict[str, Any])
def inventory(
    request: Request,
    _: ManagementAuth,
    page: int = Query(default=0),
    limit: int = Query(default=DEFAULT_LIMIT),
    app_ids: Annotated[list[str] | None, Query(alias="appId")] = None,
    statuses: Annotated[list[str] | None, Query(alias="status")] = None,
    user_text: str = Query(default="", alias="userText"),
    user_id: str = Query(default="", alias="userId"),
    tenant_text: str = Query(default="", alias="tenantText"),
    scope_text: str = Query(default="", alias="scopeText"),
    with_kpis: bool = Query(default=False, alias="kpis"),
) -> JSONResponse:
    """A page of token metadata (an extension), ordered by user, tenant and app."""
    app_ids, statuses = app_ids or [], statuses or []
    _checked(page, limit, app_ids, statuses, (user_text, user_id, tenant_text, scope_text))
    broker = broker_of(request)
    now, margin = int(now_s()), broker.settings.refresh_margin_s
    limit = limit or DEFAULT_LIMIT
    chosen = InventoryFilter(
        app_ids=tuple(a for a in app_ids if a),
        statuses=tuple(s for s in statuses if s),
        user_text=user_text,
        user_id=user_id,
        tenant_text=tenant_text,
        scope_text=scope_text,
    )
    where = chosen.where(now, margin)
    status = status_case(now, margin).label("computed_status")
    rows_query = (
        select(*_PAGE_COLUMNS, status)
        .select_from(T)
        .outerjoin(User, User.id == T.user_id)
        .outerjoin(Tenant, Tenant.id == T.tenant_id)
        .where(*where)
        .order_by(T.user_id, T.tenant_id, T.app_id, T.id)
        .offset(page * limit)
        .limit(limit)
    )
    counted = select(func.count()).select_from(T)
    if chosen.joins_owner:  # the count needs the joins only when a condition reads them
        counted = counted.outerjoin(User, User.id == T.user_id).outerjoin(
            Tenant, Tenant.id == T.tenant_id
        )
    with broker.db.session() as s:
        numbers = (
            kpis(s, where, joined=chosen.joins_owner, now=now, margin=margin) if with_kpis else None
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
    tokens = [_metadata(r, r.computed_status, logins.get(r.user_id, "")) for r in rows]
    answer: dict[str, Any] = {"tokens": tokens, "total": total, "page": page, "limit": limit}
    if numbers is not None:
        answer["kpis"] = numbers
    # Sent as built: FastAPI's validation of 500 plain dicts per page was about a fifth of the
    # endpoint's CPU (the tokens page benchmark, docs/performance.md).
    return JSONResponse(answer)
