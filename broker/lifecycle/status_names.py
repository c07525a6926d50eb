"""A token's lifecycle statuses as the wire spells them: the one ``TokenStatus`` enum.

Standard library only, so a client of the wire (the MCP server) compares statuses without
loading the store; the rule that derives a status, in Python and in SQL, is ``status.py``.
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
