"""Extension endpoint (not part of Descope's API): every stored token's metadata, paged.

Descope has no "list all tokens" endpoint (reference §5), so a dashboard pointed at the cloud
fans out per user. Against this broker it can ask once per page instead:
``GET /v1/x/outbound/inventory?page=&limit=&appId=&status=&detail=&soonS=&marginS=&userText=
&userId=&tenantText=&scopeText=&kpis=`` answers ``{tokens, total, page, limit}`` (and ``kpis``
when asked). ``appId``, ``status`` and ``detail`` may repeat (any of them); ``detail`` filters by
the finer statuses the dashboard shows (``DetailedStatus``: ``no_refresh_token`` and
``expiring_soon`` within ``soonS`` seconds, default 24 h; ``refresh_due`` within ``marginS``,
default the broker's refresh margin, which then also computes ``status``); the text filters are case-insensitive
"contains" (``userText`` over the owner's name, email, login ids and user id; ``tenantText``
over the tenant's name and id; ``scopeText`` over the granted scopes). Each token is the
OutboundAppToken object *without* ``accessToken`` and ``refreshToken`` (metadata only; nothing
is unsealed), plus the owner's ``userName``, ``userEmail``, ``userLoginId`` and the
``tenantName``. ``kpis=true`` adds the numbers of the whole filtered set, computed by the
database (``inventory_query.kpis``, which owns the queries; ``byDetail`` counts the finer
statuses with the same windows). Reading never refreshes.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from broker.context import broker_of
from broker.errors import InvalidArguments
from broker.identity.auth import ManagementAuth
from broker.lifecycle.status_names import DETAILED_STATUSES, STATUSES
from broker.outbound.inventory_query import (
    DAY_S,
    InventoryFilter,
    inventory_page,
)
from broker.store.db import now_s

DEFAULT_LIMIT = 500
MAX_LIMIT = 2000
MAX_PAGE = 1_000_000  # keeps OFFSET inside a 64-bit integer
MAX_VALUES = 100  # repeated appId / status values
MAX_TEXT = 256
MAX_WINDOW_S = 366 * 24 * 3600  # soonS and marginS: at most a year

router = APIRouter(tags=["extensions"])


def _one_of(name: str, values: list[str], allowed: tuple[str, ...]) -> None:
    if unknown := [v for v in values if v not in allowed]:
        raise InvalidArguments(f"{name} must be one of {', '.join(allowed)}, not {unknown[0]!r}")


def _checked(
    page: int,
    limit: int,
    many: tuple[list[str], list[str], list[str]],
    windows: tuple[int | None, int | None],
    texts: tuple[str, ...],
) -> None:
    _, statuses, details = many
    if not 0 <= page <= MAX_PAGE or not 0 <= limit <= MAX_LIMIT:
        raise InvalidArguments(f"page must be 0 to {MAX_PAGE} and limit 0 to {MAX_LIMIT}")
    if any(len(values) > MAX_VALUES for values in many):
        raise InvalidArguments(f"at most {MAX_VALUES} appId, status and detail values")
    _one_of("status", statuses, STATUSES)
    _one_of("detail", details, DETAILED_STATUSES)
    if any(w is not None and not 0 <= w <= MAX_WINDOW_S for w in windows):
        raise InvalidArguments(f"soonS and marginS must be 0 to {MAX_WINDOW_S} seconds")
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
    details: Annotated[list[str] | None, Query(alias="detail")] = None,
    soon_s: int | None = Query(default=None, alias="soonS"),
    margin_s: int | None = Query(default=None, alias="marginS"),
    user_text: str = Query(default="", alias="userText"),
    user_id: str = Query(default="", alias="userId"),
    tenant_text: str = Query(default="", alias="tenantText"),
    scope_text: str = Query(default="", alias="scopeText"),
    with_kpis: bool = Query(default=False, alias="kpis"),
) -> JSONResponse:
    """A page of token metadata (an extension), ordered by user, tenant and app."""
    app_ids, statuses, details = app_ids or [], statuses or [], details or []
    texts = (user_text, user_id, tenant_text, scope_text)
    _checked(page, limit, (app_ids, statuses, details), (soon_s, margin_s), texts)
    broker = broker_of(request)
    now = int(now_s())
    margin = broker.settings.refresh_margin_s if margin_s is None else margin_s
    limit = limit or DEFAULT_LIMIT
    chosen = InventoryFilter(
        app_ids=tuple(a for a in app_ids if a),
        statuses=tuple(s for s in statuses if s),
        details=tuple(d for d in details if d),
        soon=DAY_S if soon_s is None else soon_s,
        user_text=user_text,
        user_id=user_id,
        tenant_text=tenant_text,
        scope_text=scope_text,
    )
    answer = inventory_page(
        broker.db, chosen, page=page, limit=limit, with_kpis=with_kpis, now=now, margin=margin
    )
    # Sent as built: FastAPI's validation of 500 plain dicts per page was about a fifth of the
    # endpoint's CPU (the tokens page benchmark, docs/performance.md).
    return JSONResponse(answer)
