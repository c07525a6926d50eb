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
database (``inventory_query``, which owns the queries). Reading never refreshes.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from broker.context import broker_of
from broker.errors import InvalidArguments
from broker.identity.auth import ManagementAuth
from broker.lifecycle.status_names import STATUSES
from broker.outbound.inventory_query import (
    InventoryFilter,
    inventory_page,
)
from broker.store.db import now_s

DEFAULT_LIMIT = 500
MAX_LIMIT = 2000
MAX_PAGE = 1_000_000  # keeps OFFSET inside a 64-bit integer
MAX_VALUES = 100  # repeated appId / status values
MAX_TEXT = 256

router = APIRouter(tags=["extensions"])


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
    answer = inventory_page(
        broker.db, chosen, page=page, limit=limit, with_kpis=with_kpis, now=now, margin=margin
    )
    # Sent as built: FastAPI's validation of 500 plain dicts per page was about a fifth of the
    # endpoint's CPU (the tokens page benchmark, docs/performance.md).
    return JSONResponse(answer)
