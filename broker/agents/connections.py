"""What an agent may know about connections: the user's own (never a token) and, for admins,
their health across users. Read-only; nothing here unseals or refreshes a token.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select

from broker.agents.access_keys import key_of_session
from broker.agents.api_bases import api_bases
from broker.context import Broker
from broker.errors import Forbidden
from broker.identity.auth import Caller
from broker.lifecycle.status import token_status
from broker.lifecycle.status_names import TokenStatus
from broker.store.db import now_s
from broker.store.outbound import ManagedTokenRow, OutboundAppRow

FAILING = (TokenStatus.EXPIRED, TokenStatus.REFRESH_FAILED, TokenStatus.NEEDS_REAUTH)
MAX_FAILING = 100


def _unix(value: int | None) -> str:
    return str(int(value)) if value else ""


def _allowed_apps(broker: Broker, caller: Caller) -> set[str] | None:
    key = key_of_session(broker, caller.claims)
    return set(key.app_ids) if key is not None and key.app_ids else None


def user_connections(broker: Broker, caller: Caller) -> list[dict[str, Any]]:
    """Every app the caller may use, with their connection's metadata (``connected`` false when
    there is none): status, granted scopes, expiry, refresh facts, the API base URLs."""
    allowed = _allowed_apps(broker, caller)
    now, margin = now_s(), broker.settings.refresh_margin_s
    with broker.db.session() as s:
        apps = s.scalars(select(OutboundAppRow).order_by(OutboundAppRow.name)).all()
        tokens = s.scalars(
            select(ManagedTokenRow).where(
                ManagedTokenRow.user_id == (caller.user_id or ""),
                ManagedTokenRow.tenant_id == "",
            )
        ).all()
        by_app = {t.app_id: t for t in tokens}
        out: list[dict[str, Any]] = []
        for app in apps:
            if allowed is not None and app.id not in allowed:
                continue
            token = by_app.get(app.id)
            entry: dict[str, Any] = {
                "appId": app.id,
                "name": app.name,
                "connected": token is not None,
                "apiBaseUrls": [b.url() for b in api_bases(app)],
                "defaultScopes": list(app.default_scopes or []),
            }
            if token is not None:
                entry.update(
                    {
                        "status": token_status(token, now, margin).value,
                        "scopes": list(token.scopes or []),
                        "accessTokenExpiry": _unix(token.access_token_expiry),
                        "hasRefreshToken": token.refresh_token_sealed is not None,
                        "lastRefreshTime": _unix(token.last_refresh_time),
                        "lastRefreshError": token.last_refresh_error,
                    }
                )
            out.append(entry)
        return out


def is_admin(broker: Broker, caller: Caller) -> bool:
    """A management caller, or a user whose JWT carries one of the admin roles."""
    roles = set(caller.claims.get("roles") or [])
    return caller.is_management or bool(roles & set(broker.settings.admin_roles))


def connection_health(
    broker: Broker, caller: Caller, app_id: str = "", status: str = ""
) -> dict[str, Any]:
    """Counts by status per app and the failing connections (admins only)."""
    if not is_admin(broker, caller):
        raise Forbidden("Connection health is for administrators only")
    now, margin = now_s(), broker.settings.refresh_margin_s
    stmt = select(ManagedTokenRow)
    if app_id:
        stmt = stmt.where(ManagedTokenRow.app_id == app_id)
    counts: dict[str, Counter[str]] = {}
    failing: list[dict[str, Any]] = []
    with broker.db.session() as s:
        for row in s.scalars(stmt.order_by(ManagedTokenRow.app_id, ManagedTokenRow.id)):
            state = token_status(row, now, margin).value
            counts.setdefault(row.app_id, Counter())[state] += 1
            wanted = state == status if status else state in FAILING
            if wanted and len(failing) < MAX_FAILING:
                failing.append(
                    {
                        "appId": row.app_id,
                        "userId": row.user_id,
                        "tenantId": row.tenant_id,
                        "tokenId": row.id,
                        "status": state,
                        "lastRefreshError": row.last_refresh_error,
                        "failureCount": row.failure_count,
                    }
                )
    return {
        "apps": [{"appId": a, "counts": dict(c)} for a, c in sorted(counts.items())],
        "connections": failing,
        "limit": MAX_FAILING,
    }
