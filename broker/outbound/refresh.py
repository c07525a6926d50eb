"""Refreshing a stored token: all refresh logic sits behind ``refresh_token``.

Correct for one caller; the write is already a compare-and-swap on ``version`` so a stale
refresher never overwrites a newer pair (a later change adds a DB lease for single-flight).
Outcomes: ``fresh`` (nothing to do), ``refreshed``, ``kept`` (a transient failure while the
current access token is still valid). A permanent provider error (``invalid_grant``…) marks the
token ``needs_reauth`` and raises ``ReauthorizationRequired``; a transient one with an expired
token raises ``ProviderUnavailable``. A rotated refresh token is committed before the new access
token is returned; when the answer carries no refresh token the old one is kept.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import update

from broker.context import Broker
from broker.errors import DescopeError
from broker.outbound.apps import find_app
from broker.outbound.oauth_client import ProviderError, refresh_grant
from broker.outbound.registration import resolve_app
from broker.outbound.vault import NEEDS_REAUTH, REFRESH_FAILED, apply_grant, unseal_part
from broker.store.db import now_s
from broker.store.outbound import ManagedTokenRow

RefreshOutcome = Literal["fresh", "refreshed", "kept"]
# Transient failures back off per token: 30 s, doubling, at most an hour.
BACKOFF_BASE_S, BACKOFF_MAX_S = 30, 3600


class ReauthorizationRequired(DescopeError):
    """The grant is dead (permanent provider error or no refresh token): the user must reconnect."""

    status = 404
    code = "E111505"
    description = "Outbound app token needs re-authorization"


class ProviderUnavailable(DescopeError):
    """The token is expired and the provider could not refresh it just now (transient)."""

    status = 502
    code = "E111506"
    description = "Outbound app provider unavailable"


def needs_refresh(row: ManagedTokenRow, now: float, margin: int) -> bool:
    """Whether a fetch must refresh first: no access token, or expiring within ``margin``."""
    if row.kind != "oauth":
        return False
    if row.access_token_sealed is None:
        return True
    return bool(row.access_token_expiry) and row.access_token_expiry - margin <= now


def _still_valid(row: ManagedTokenRow, now: float) -> bool:
    return row.access_token_sealed is not None and (
        not row.access_token_expiry or row.access_token_expiry > now
    )


def _record_failure(broker: Broker, row: ManagedTokenRow, exc: ProviderError, now: int) -> None:
    status = NEEDS_REAUTH if exc.permanent else REFRESH_FAILED
    failures = row.failure_count + 1
    backoff = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** min(failures - 1, 10))
    with broker.db.session() as s:
        s.execute(
            update(ManagedTokenRow)
            .where(ManagedTokenRow.id == row.id, ManagedTokenRow.version == row.version)
            .values(
                status=status,
                last_refresh_error=str(exc)[:500],
                failure_count=failures,
                next_refresh_time=None if exc.permanent else now + backoff,
                updated_at=float(now),
            )
        )


def _mark_reauth(broker: Broker, row: ManagedTokenRow, reason: str) -> ReauthorizationRequired:
    _record_failure(broker, row, ProviderError(reason, permanent=True), int(now_s()))
    return ReauthorizationRequired(f"Token {row.id} needs re-authorization: {reason}")


def refresh_token(broker: Broker, token_id: str, *, force: bool) -> RefreshOutcome:
    """Refresh the token if it is due (or ``force``); see the module docstring for outcomes."""
    now = int(now_s())
    with broker.db.session() as s:
        row = s.get(ManagedTokenRow, token_id)
        if row is None:
            return "fresh"
        app = resolve_app(broker, find_app(s, row.app_id))
    if row.kind != "oauth" or not (
        force or needs_refresh(row, now, broker.settings.refresh_margin_s)
    ):
        return "fresh"
    if row.status == NEEDS_REAUTH:  # a tombstoned grant is never presented again, even forced
        raise ReauthorizationRequired(
            f"Token {row.id} needs re-authorization: {row.last_refresh_error}"
        )
    refresh = unseal_part(broker, row, "refresh")
    if refresh is None:
        if force or not _still_valid(row, now):
            raise _mark_reauth(broker, row, "no_refresh_token")
        return "fresh"
    try:
        grant = refresh_grant(broker.settings, app.registration, refresh)
    except ProviderError as exc:
        _record_failure(broker, row, exc, now)
        if exc.permanent:
            raise ReauthorizationRequired(
                f"Token {row.id} needs re-authorization: {exc.error}"
            ) from None
        if _still_valid(row, now):
            return "kept"
        raise ProviderUnavailable(f"Could not refresh token {row.id}: {exc.error}") from None
    with broker.db.session() as s:
        fresh = s.get(ManagedTokenRow, token_id)
        if fresh is None or fresh.version != row.version:
            return "refreshed"  # another writer stored a newer pair first; theirs stands
        apply_grant(broker, fresh, app, grant, now)
        fresh.last_refresh_time = now
    return "refreshed"
