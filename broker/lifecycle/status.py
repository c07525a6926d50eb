"""A token's lifecycle status: the one rule that derives a ``TokenStatus`` (``status_names``).

The rule is written once, here, for both sides: ``token_status`` for a row in Python (the wire's
``status`` extension field) and ``status_sql`` for the database (the inventory's filters and
KPIs, the ``outbound_tokens`` gauge), so a filter, a count and the status a row shows agree.
Only the stored ``active`` / ``refresh_failed`` / ``needs_reauth`` are written to the status
column; ``expiring`` and ``expired`` follow from the expiry and the refresh margin.
``detailed_status_sql`` is the finer reading the inventory filters by
(the dashboard's statuses: ``no_refresh_token``, ``expiring_soon``, ``refresh_due``). Imports only
the store (and SQLAlchemy), so every layer above may use it.
"""

from __future__ import annotations

from sqlalchemy import and_, case
from sqlalchemy.sql.elements import ColumnElement

from broker.lifecycle.status_names import STORED_FAILING, DetailedStatus, TokenStatus
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


def detailed_status_sql(now: int, margin: int, soon: int) -> ColumnElement[str]:
    """The finer status of a token row as one SQL ``CASE``: ``status_sql``'s precedence (a
    stored failure, then a lapsed expiry), a refresh error, then a token nothing renews is
    ``expiring_soon`` within ``soon`` seconds of its expiry (else ``no_refresh_token``) and a
    renewable one ``refresh_due`` inside the ``margin``. It is the dashboard's ``classify``
    (``dashboard/inventory/status.py``) in SQL; tests/broker/test_inventory_detail.py keeps the
    two equal row by row on both backends."""
    t = ManagedTokenRow
    expires = t.access_token_expiry > 0
    no_refresh = t.refresh_token_sealed.is_(None)
    return case(
        (t.status.in_([s.value for s in STORED_FAILING]), t.status),
        (and_(expires, t.access_token_expiry <= now), DetailedStatus.EXPIRED.value),
        (t.last_refresh_error != "", DetailedStatus.REFRESH_FAILED.value),
        (~expires, DetailedStatus.ACTIVE.value),
        (and_(no_refresh, t.access_token_expiry - soon <= now), DetailedStatus.EXPIRING_SOON.value),
        (no_refresh, DetailedStatus.NO_REFRESH_TOKEN.value),
        (t.access_token_expiry - margin <= now, DetailedStatus.REFRESH_DUE.value),
        else_=DetailedStatus.ACTIVE.value,
    )
