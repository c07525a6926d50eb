"""The one status rule (``broker/lifecycle/status.py``): the database's ``CASE`` gives every row
the status the wire shows for it, on both backends."""

from __future__ import annotations

import itertools

from sqlalchemy import select

from broker.lifecycle.status import status_sql, token_status
from broker.lifecycle.status_names import STATUSES, TokenStatus
from broker.store.outbound import ManagedTokenRow
from tests.support.servers import LiveBroker

NOW, MARGIN = 1_000_000, 60
STORED = ("active", "refresh_failed", "needs_reauth")
# Never expires, lapsed, at the edge of lapsing, inside the margin, at its edge, well valid.
EXPIRIES = (0, NOW - 1, NOW, NOW + 1, NOW + MARGIN, NOW + MARGIN + 1, NOW + 3600)


def test_the_sql_status_is_the_python_status_of_every_row(
    live_broker: LiveBroker, app_id: str
) -> None:
    db = live_broker.broker.db
    with db.session() as s:
        for n, (stored, expiry) in enumerate(itertools.product(STORED, EXPIRIES)):
            s.add(
                ManagedTokenRow(
                    id=f"{app_id}-{n}",
                    app_id=app_id,
                    user_id=f"U{n}",
                    status=stored,
                    access_token_expiry=expiry,
                    created_at=0.0,
                    updated_at=0.0,
                )
            )
    with db.session() as s:
        mine = ManagedTokenRow.app_id == app_id
        rows = s.scalars(select(ManagedTokenRow).where(mine)).all()
        statuses = select(ManagedTokenRow.id, status_sql(NOW, MARGIN)).where(mine)
        in_sql = {token_id: status for token_id, status in s.execute(statuses)}
        shown = {row.id: token_status(row, NOW, MARGIN) for row in rows}
    assert in_sql == shown
    assert set(shown.values()) == set(TokenStatus)  # every status is reached
    assert STATUSES == ("active", "expiring", "expired", "refresh_failed", "needs_reauth")
