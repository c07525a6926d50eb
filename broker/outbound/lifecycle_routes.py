"""Lifecycle extension endpoints (not part of Descope's API).

``GET /v1/x/events?userId=&appId=&tokenId=&kind=&since=&after=&limit=`` (management key):
``{"events": [...]}``, oldest first; ``kind`` may be repeated or comma-separated, ``since``
is Unix seconds (inclusive), ``after`` a ``seq`` to page from, ``limit`` at most 1000; numbers
out of range (negative, past 2**53 - 1, NaN) are a 400, like Descope's bounded integers.
``POST /v1/x/outbound/token/revealed`` ``{tokenId}`` (``Bearer pid:refreshJwt:managementKey``):
records that the person behind the refresh JWT revealed that token's access token (a
``revealed`` event); 404 ``E111504`` for an unknown token.
``GET /metrics``: Prometheus exposition (no secrets in it; unauthenticated, like most scrape
targets — keep the broker on a private address).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from broker.context import broker_of
from broker.errors import InvalidArguments
from broker.identity.auth import ManagementAuth, require_refresh_user
from broker.identity.wire import MAX_WIRE_INT
from broker.lifecycle import metrics
from broker.lifecycle.events import EVENT_KINDS, EventQuery, list_events, record_reveal

router = APIRouter(tags=["extensions"])


@router.get("/v1/x/events")
def events(
    request: Request,
    _: ManagementAuth,
    user_id: Annotated[str, Query(alias="userId")] = "",
    app_id: Annotated[str, Query(alias="appId")] = "",
    token_id: Annotated[str, Query(alias="tokenId")] = "",
    kind: Annotated[list[str] | None, Query()] = None,
    since: Annotated[float | None, Query(ge=0, le=MAX_WIRE_INT)] = None,
    after: Annotated[int | None, Query(ge=0, le=MAX_WIRE_INT)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Lifecycle events, filtered by user, app, token, kind and time."""
    kinds = tuple(k for part in kind or [] for k in part.split(",") if k)
    unknown = sorted(set(kinds) - set(EVENT_KINDS))
    if unknown:
        raise InvalidArguments(f"Unknown event kind: {', '.join(unknown)}")
    query = EventQuery(user_id, app_id, token_id, kinds, since, after, limit)
    return {"events": list_events(broker_of(request), query)}


class RevealBody(BaseModel):
    """Which token's access token was revealed."""

    token_id: str = Field(alias="tokenId", min_length=1, max_length=64)


@router.post("/v1/x/outbound/token/revealed")
def token_revealed(request: Request, _: ManagementAuth, body: RevealBody) -> dict[str, Any]:
    """Audit a reveal: the management key acts, the refresh JWT says who looked."""
    caller = require_refresh_user(request)
    record_reveal(broker_of(request), body.token_id, str(caller.user_id))
    return {}


@router.get("/metrics", include_in_schema=False)
def prometheus_metrics(request: Request) -> Response:
    """Prometheus metrics of the token lifecycle."""
    broker = broker_of(request)
    body, content_type = metrics.render(broker.db, broker.settings.refresh_margin_s)
    return Response(body, media_type=content_type)
