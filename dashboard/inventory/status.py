"""A managed token's status, from Descope's standard fields, so cloud and broker read alike.

``classify`` reads ``accessTokenExpiry``, ``hasRefreshToken`` and ``lastRefreshError``; when the
broker also sends its ``status`` extension, the terminal states it knows (``needs_reauth``,
``revoked``) and its ``refresh_failed`` take precedence. Pure functions over an explicit clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from dashboard.descope import (
    ManagedToken,
)


class TokenStatus(StrEnum):
    """Where a token stands, most urgent first in ``SEVERITY``."""

    NEEDS_REAUTH = "needs_reauth"
    REVOKED = "revoked"
    REFRESH_FAILED = "refresh_failed"
    EXPIRED = "expired"
    NO_REFRESH_TOKEN = "no_refresh_token"
    REFRESH_DUE = "refresh_due"
    EXPIRING_SOON = "expiring_soon"
    ACTIVE = "active"

    @property
    def label(self) -> str:
        """The status as a person reads it."""
        return _LABELS[self]

    @property
    def meaning(self) -> str:
        """One sentence: what the status means and what to do about it."""
        return _MEANINGS[self]

    @property
    def colour(self) -> str:
        """A colour for charts and the users × apps matrix."""
        return _COLOURS[self]

    @property
    def healthy(self) -> bool:
        """Whether a backend asking for this token now gets a working one without anyone acting."""
        return self in HEALTHY


SEVERITY: tuple[TokenStatus, ...] = tuple(TokenStatus)
HEALTHY = frozenset({TokenStatus.ACTIVE, TokenStatus.REFRESH_DUE})

_LABELS = {
    TokenStatus.NEEDS_REAUTH: "Needs reconnect",
    TokenStatus.REVOKED: "Revoked",
    TokenStatus.REFRESH_FAILED: "Refresh failed",
    TokenStatus.EXPIRED: "Expired",
    TokenStatus.NO_REFRESH_TOKEN: "No refresh token",
    TokenStatus.REFRESH_DUE: "Refresh due",
    TokenStatus.EXPIRING_SOON: "Expiring soon",
    TokenStatus.ACTIVE: "Active",
}
_MEANINGS = {
    TokenStatus.NEEDS_REAUTH: "The provider refused the grant; only a new connect heals it.",
    TokenStatus.REVOKED: "The connection was revoked; the user has to connect again.",
    TokenStatus.REFRESH_FAILED: "The last refresh failed; it is retried, see the error.",
    TokenStatus.EXPIRED: "The access token has expired; a fetch refreshes it if it can.",
    TokenStatus.NO_REFRESH_TOKEN: "No refresh token: it works until it expires, then needs a reconnect.",
    TokenStatus.REFRESH_DUE: "Inside the refresh margin: the next fetch refreshes it first.",
    TokenStatus.EXPIRING_SOON: "No refresh token and it expires soon: ask the user to reconnect.",
    TokenStatus.ACTIVE: "Valid, and renewed by its refresh token when it nears expiry.",
}
# Distinct hues (tests/unit/test_token_status.py keeps them apart): red for what needs a person,
# orange for a failing refresh, purple for expired, grey for revoked, green and cyan for healthy.
_COLOURS = {
    TokenStatus.NEEDS_REAUTH: "#dc2626",
    TokenStatus.REVOKED: "#6b7280",
    TokenStatus.REFRESH_FAILED: "#f97316",
    TokenStatus.EXPIRED: "#9333ea",
    TokenStatus.NO_REFRESH_TOKEN: "#2563eb",
    TokenStatus.REFRESH_DUE: "#0891b2",
    TokenStatus.EXPIRING_SOON: "#a16207",
    TokenStatus.ACTIVE: "#16a34a",
}
# The broker's ``status`` extension values that say more than the standard fields can.
_EXTENSION_STATUSES = {
    "needs_reauth": TokenStatus.NEEDS_REAUTH,
    "revoked": TokenStatus.REVOKED,
    "refresh_failed": TokenStatus.REFRESH_FAILED,
    "expired": TokenStatus.EXPIRED,
}


@dataclass(frozen=True)
class StatusWindows:
    """How far ahead a token that cannot be refreshed counts as "expiring soon", and the short
    margin before expiry where a refreshable token is due for its refresh."""

    expiring_soon: timedelta = timedelta(hours=24)
    refresh_margin: timedelta = timedelta(minutes=5)


DEFAULT_WINDOWS = StatusWindows()


def classify(
    token: ManagedToken, now: datetime, windows: StatusWindows = DEFAULT_WINDOWS
) -> TokenStatus:
    """The status of ``token`` at ``now`` (an aware datetime)."""
    extension = _EXTENSION_STATUSES.get(token.status or "")
    if extension is not None:
        return extension
    if token.last_refresh_error:
        return TokenStatus.REFRESH_FAILED
    expiry = token.access_token_expiry
    if expiry is None:  # Descope sends "0" for a token that does not expire
        return TokenStatus.ACTIVE
    if expiry <= now:
        return TokenStatus.EXPIRED
    if not token.has_refresh_token:
        # Nothing can renew it: what matters is whether it dies within the window.
        if expiry - windows.expiring_soon <= now:
            return TokenStatus.EXPIRING_SOON
        return TokenStatus.NO_REFRESH_TOKEN
    if expiry - windows.refresh_margin <= now:
        return TokenStatus.REFRESH_DUE
    return TokenStatus.ACTIVE


def expires_within(token: ManagedToken, now: datetime, window: timedelta) -> bool:
    """Whether the access token is still valid but expires within ``window`` of ``now``."""
    expiry = token.access_token_expiry
    return expiry is not None and now < expiry <= now + window
