"""A token's lifecycle statuses as the wire spells them: the one ``TokenStatus`` enum.

Standard library only, so a client of the wire (the MCP server) compares statuses without
loading the store; the rule that derives a status, in Python and in SQL, is ``status.py``.
``DetailedStatus`` is the finer reading the inventory extension filters by (``detail``): the
dashboard's own statuses, which tell a token without a refresh token from a renewable one.
"""

from __future__ import annotations

from enum import StrEnum


class TokenStatus(StrEnum):
    """The ``status`` extension field's values (the wire strings themselves)."""

    ACTIVE = "active"
    EXPIRING = "expiring"  # inside the refresh margin
    EXPIRED = "expired"
    REFRESH_FAILED = "refresh_failed"  # transient; retried
    NEEDS_REAUTH = "needs_reauth"  # permanent; only a new connect heals it


STATUSES = tuple(s.value for s in TokenStatus)  # the wire strings, in this order
# The statuses the refresh engine stores, which win over what the expiry says.
STORED_FAILING = (TokenStatus.REFRESH_FAILED, TokenStatus.NEEDS_REAUTH)


class DetailedStatus(StrEnum):
    """The inventory's finer statuses (its ``detail`` filter), as the dashboard names them."""

    NEEDS_REAUTH = "needs_reauth"
    REFRESH_FAILED = "refresh_failed"
    EXPIRED = "expired"
    NO_REFRESH_TOKEN = "no_refresh_token"  # valid, but nothing renews it
    REFRESH_DUE = "refresh_due"  # renewable, inside the refresh margin
    EXPIRING_SOON = "expiring_soon"  # no refresh token and it lapses within the window
    ACTIVE = "active"


DETAILED_STATUSES = tuple(s.value for s in DetailedStatus)
