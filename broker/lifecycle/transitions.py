"""The writes that end a refresh, each a compare-and-swap on the token's ``version``.

A writer first bumps ``version`` from the value it read (``UPDATE … WHERE version = :read``);
if another writer got there first nothing is written, so a stale refresher can never overwrite
a newer pair. Each write records its lifecycle events in the same transaction.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from sqlalchemy import update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from broker.context import Broker
from broker.lifecycle.events import record_event
from broker.lifecycle.outcomes import Outcome
from broker.lifecycle.status_names import TokenStatus
from broker.lifecycle.vault import apply_grant
from broker.providers.oauth_client import TokenGrant
from broker.providers.registration import OutboundApp
from broker.store.outbound import ManagedTokenRow

log = logging.getLogger("broker.refresh")

Trigger = Literal["fetch", "force", "scheduled"]


def _claim(session: Session, token_id: str, version: int) -> ManagedTokenRow | None:
    """Bump the version if it is still ``version``; the row, or None when someone was first."""
    result = session.execute(
        update(ManagedTokenRow)
        .where(ManagedTokenRow.id == token_id, ManagedTokenRow.version == version)
        .values(version=version + 1)
    )
    if not isinstance(result, CursorResult) or result.rowcount != 1:
        log.warning("refresh write lost a version race", extra={"token_id": token_id})
        return None
    return session.get(ManagedTokenRow, token_id, populate_existing=True)


def store_success(
    broker: Broker,
    token_id: str,
    version: int,
    app: OutboundApp,
    grant: TokenGrant,
    now: int,
    trigger: Trigger,
) -> bool:
    """Commit a new pair (the old refresh token stays when none came); False on a lost race."""
    with broker.db.session() as s:
        row = _claim(s, token_id, version)
        if row is None:
            return False
        failures, was_failing = row.failure_count, row.status == TokenStatus.REFRESH_FAILED
        apply_grant(broker, row, app, grant, now)
        row.last_refresh_time = now
        detail: dict[str, Any] = {
            "trigger": trigger,
            "rotated": grant.refresh_token is not None,
            "accessTokenExpiry": row.access_token_expiry,
        }
        record_event(broker, s, "refreshed", row, detail)
        if was_failing or failures:
            record_event(broker, s, "recovered", row, {"failureCount": failures})
    return True


def store_failure(
    broker: Broker,
    token_id: str,
    version: int,
    outcome: Outcome,
    error: str,
    next_refresh_time: int | None,
    trigger: Trigger,
) -> bool:
    """Record a failed refresh: ``needs_reauth`` (permanent) or ``refresh_failed`` with backoff."""
    permanent = outcome == "permanent"
    with broker.db.session() as s:
        row = _claim(s, token_id, version)
        if row is None:
            return False
        first_failure = row.status != TokenStatus.REFRESH_FAILED and not row.failure_count
        row.status = (TokenStatus.NEEDS_REAUTH if permanent else TokenStatus.REFRESH_FAILED).value
        row.last_refresh_error = error[:500]
        row.failure_count += 1
        row.next_refresh_time = None if permanent else next_refresh_time
        detail: dict[str, Any] = {
            "trigger": trigger,
            "outcome": outcome,
            "error": row.last_refresh_error,
            "failureCount": row.failure_count,
        }
        if permanent:
            record_event(broker, s, "needs_reauth", row, detail)
        elif first_failure:
            record_event(
                broker, s, "refresh_failed", row, {**detail, "nextRefreshTime": next_refresh_time}
            )
    return True
