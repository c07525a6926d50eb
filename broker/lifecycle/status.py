"""A token's lifecycle status: the one rule that derives a ``TokenStatus`` (``status_names``).

The rule is written once, here, for both sides: ``token_status`` for a row in Python (the wire's
``status`` extension field) and ``status_sql`` for the database (the inventory's filters and
KPIs, the ``outbound_tokens`` gauge), so a filter, a count and the status a row shows agree.
Only the stored ``active`` / ``refresh_failed`` / ``needs_reauth`` are written to the status
column; ``expiring`` and ``expired`` follow from the expiry and the refresh margin. Imports only
the store (and SQLAlchemy), so every layer above may use it.
"""

from __future__ import annotations

from sqlalchemy import and_, case
from sqlalchemy.sql.elements import ColumnElement

from broker.lifecycle.status_names import STORED_FAILING, TokenStatus
from broker.store.outbound import ManagedTokenRow, StoredToken

# Bound once: on Python 3.11 looking an enum member up costs more than the rest of the rule,
# which runs on every fetch (the broker's hot path).
_ACTIVE, _EXPIRING, _EXPIRED = TokenStatus.ACTIVE, TokenStatus.EXPIRING, TokenStatus.EXPIRED
_FAILING = frozenset(s.value for s in STORED_FAILING)


def token_status(row: StoredToken, now: float, margin: int) -> TokenStatus:
    """The status of a stored token (an expiry of 0 never lapses)."""
    if row.status in _FAILING:
        return TokenStatus(row.status)
    expiry = row.access_token_expiry
    if expiry and expiry <= now:
        return _EXPIRED
    if expiry and expiry - margin <= now:
        return _EXPIRING
    return _ACTIVE


def status_sql(now: int, margin: int) -> ColumnElement[str]:
    """``token_status`` as one SQL ``CASE`` over a token row's columns (same precedence)."""
    t = ManagedTokenRow
    expires = t.access_token_expiry > 0
    return case(
        (t.status.in_([s.value for s in STORED_FAILING]), t.status),
        (and_(expires, t.access_token_expiry <= now), TokenStatus.EXPIRED.value),
        (and_(expires, t.access_token_expiry - margin <= now), TokenStatus.EXPIRING.value),
        else_=TokenStatus.ACTIVE.value,
    )
