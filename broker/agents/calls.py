"""Agent calls as lifecycle events (``agent_call``): who called which tool for which app, and
how it went; and the per-app summary admins read (calls and failures).

Detail: ``{"agent", "tool", "outcome", ...}``; outcome ``ok`` or a failure word
(``not_connected``, ``needs_reauth``, ``refused``, ``provider_error``, ``unreachable``,
``forbidden``…). Written by the broker itself for proxied calls; the MCP server reports its
other tools for its own user only (``POST /v1/x/agents/calls``).
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from typing import Any

from sqlalchemy import select

from broker.context import Broker
from broker.lifecycle import metrics
from broker.store.db import now_s
from broker.store.lifecycle import LifecycleEventRow

AGENT_CALL = "agent_call"
OK = "ok"


def record_agent_call(
    broker: Broker,
    *,
    user_id: str,
    app_id: str,
    token_id: str,
    agent: str,
    tool: str,
    outcome: str,
    **detail: Any,
) -> None:
    """Write one ``agent_call`` event (its own transaction; never raises into the call)."""
    with broker.db.session() as s:
        s.add(
            LifecycleEventRow(
                id=f"EV{secrets.token_hex(12)}",
                kind=AGENT_CALL,
                time=now_s(),
                token_id=token_id,
                app_id=app_id,
                user_id=user_id,
                tenant_id="",
                detail={"agent": agent, "tool": tool, "outcome": outcome, **detail},
            )
        )
    metrics.EVENTS.labels(kind=AGENT_CALL).inc()


def agent_call_summary(broker: Broker, since: float) -> list[dict[str, Any]]:
    """Per app since ``since``: calls, failures, failures by outcome and the latest failure."""
    stmt = (
        select(LifecycleEventRow)
        .where(LifecycleEventRow.kind == AGENT_CALL, LifecycleEventRow.time >= since)
        .order_by(LifecycleEventRow.seq)
    )
    apps: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"calls": 0, "failures": 0, "byOutcome": {}, "lastFailure": None}
    )
    with broker.db.session() as s:
        for row in s.scalars(stmt):
            entry = apps[row.app_id]
            outcome = str((row.detail or {}).get("outcome", ""))
            entry["calls"] += 1
            entry["byOutcome"][outcome] = entry["byOutcome"].get(outcome, 0) + 1
            if outcome != OK:
                entry["failures"] += 1
                entry["lastFailure"] = {
                    "time": row.time,
                    "userId": row.user_id,
                    "tool": (row.detail or {}).get("tool", ""),
                    "agent": (row.detail or {}).get("agent", ""),
                    "outcome": outcome,
                }
    return [{"appId": app_id, **entry} for app_id, entry in sorted(apps.items())]
