"""Lifecycle events: an audit log of each token's life, readable and delivered to webhooks.

Kinds: ``connected``, ``reconnected``, ``refreshed``, ``refresh_failed`` (entering the failing
state), ``needs_reauth``, ``recovered`` (a success after failures), ``revoked`` (the provider
confirmed a revocation), ``disconnected`` (the token was deleted), ``revealed`` (a person saw the
access token in the dashboard: who, in ``detail``), ``agent_call`` (an agent used the connection
through ``outbound mcp``; ``tokenId`` is empty when there was none). Wire shape::

    {"id": "EV…", "seq": 17, "kind": "refreshed", "time": 1764340000.25,
     "tokenId": "OT…", "appId": "…", "userId": "…", "tenantId": "", "detail": {…}}

An event is written in the same transaction as the change it reports, together with one
pending delivery per configured webhook URL.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.context import Broker
from broker.errors import TokenNotFound
from broker.lifecycle import metrics
from broker.store.db import now_s
from broker.store.identity import User
from broker.store.lifecycle import LifecycleEventRow, WebhookDeliveryRow
from broker.store.outbound import ManagedTokenRow

EventKind = Literal[
    "connected",
    "reconnected",
    "refreshed",
    "refresh_failed",
    "needs_reauth",
    "recovered",
    "disconnected",
    "revoked",
    "revealed",
    "agent_call",
]
EVENT_KINDS: tuple[str, ...] = EventKind.__args__  # type: ignore[attr-defined]
MAX_LIMIT = 1000


def record_event(
    broker: Broker,
    session: Session,
    kind: EventKind,
    token: ManagedTokenRow,
    detail: dict[str, Any] | None = None,
) -> LifecycleEventRow:
    """Add an event about ``token`` (and its webhook deliveries) to ``session``."""
    event = LifecycleEventRow(
        id=f"EV{secrets.token_hex(12)}",
        kind=kind,
        time=now_s(),
        token_id=token.id,
        app_id=token.app_id,
        user_id=token.user_id,
        tenant_id=token.tenant_id,
        detail=detail or {},
    )
    session.add(event)
    urls = broker.settings.lifecycle.webhook_urls
    if urls:
        session.flush()  # the event's seq
        for url in urls:
            session.add(WebhookDeliveryRow(event_seq=event.seq, url=url, next_attempt_at=0.0))
    metrics.EVENTS.labels(kind=kind).inc()
    return event


def record_reveal(broker: Broker, token_id: str, user_id: str) -> None:
    """Record that ``user_id`` revealed the access token of ``token_id`` (an audit entry)."""
    with broker.db.session() as s:
        row = s.get(ManagedTokenRow, token_id)
        if row is None:
            raise TokenNotFound()
        person = s.get(User, user_id)
        who = {"byUserId": user_id}
        if person is not None:
            who |= {"byName": person.name, "byLoginId": person.email}
        record_event(broker, s, "revealed", row, who)


def event_to_wire(event: LifecycleEventRow) -> dict[str, Any]:
    """The JSON shape of one event."""
    return {
        "id": event.id,
        "seq": event.seq,
        "kind": event.kind,
        "time": event.time,
        "tokenId": event.token_id,
        "appId": event.app_id,
        "userId": event.user_id,
        "tenantId": event.tenant_id,
        "detail": dict(event.detail or {}),
    }


@dataclass(frozen=True)
class EventQuery:
    """Filters of the events endpoint (all optional); ``since`` is Unix seconds, inclusive."""

    user_id: str = ""
    app_id: str = ""
    token_id: str = ""
    kinds: tuple[str, ...] = ()
    since: float | None = None
    after_seq: int | None = None
    limit: int = 100


def list_events(broker: Broker, query: EventQuery) -> list[dict[str, Any]]:
    """Events matching ``query``, oldest first."""
    stmt = select(LifecycleEventRow)
    if query.user_id:
        stmt = stmt.where(LifecycleEventRow.user_id == query.user_id)
    if query.app_id:
        stmt = stmt.where(LifecycleEventRow.app_id == query.app_id)
    if query.token_id:
        stmt = stmt.where(LifecycleEventRow.token_id == query.token_id)
    if query.kinds:
        stmt = stmt.where(LifecycleEventRow.kind.in_(query.kinds))
    if query.since is not None:
        stmt = stmt.where(LifecycleEventRow.time >= query.since)
    if query.after_seq is not None:
        stmt = stmt.where(LifecycleEventRow.seq > query.after_seq)
    limit = max(1, min(MAX_LIMIT, query.limit))
    with broker.db.session() as s:
        rows = s.scalars(stmt.order_by(LifecycleEventRow.seq).limit(limit)).all()
        return [event_to_wire(r) for r in rows]
