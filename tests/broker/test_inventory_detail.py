"""The inventory's ``detail`` filter (the dashboard's statuses, ``detailed_status_sql``) agrees
row by row with the dashboard's own ``classify``, on both backends: every row the broker files
under a detail is one the dashboard shows with that status, under any status windows."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta

import pytest

from broker.store.outbound import ManagedTokenRow
from dashboard.descope import Secret
from dashboard.descope.errors import DashboardError
from dashboard.descope.transport import Transport
from dashboard.inventory.page import DETAILS, InventoryPage, PageQuery, fetch_inventory_page
from dashboard.inventory.status import StatusWindows, classify
from dashboard.inventory.views import Classified, kpis
from tests.support.dashboard import client_of
from tests.support.servers import LiveBroker

HOUR = 3600
STORED = ("active", "refresh_failed", "needs_reauth")
# Relative to now: never expires, lapsed, inside a 5-minute margin, in 3 h, in 2 days. Far
# enough from every edge that the second between the test's clock and the broker's is moot.
EXPIRES_IN = (None, -HOUR, 120, 3 * HOUR, 48 * HOUR)


def _page(live: LiveBroker, query: PageQuery) -> InventoryPage:
    with Transport(live.url, live.project_id, Secret(live.management_key)) as transport:
        return fetch_inventory_page(client_of(transport), query)


@pytest.fixture
def grid(live_broker: LiveBroker, app_id: str) -> int:
    """One token of ``app_id`` per (stored status, expiry, refresh token, refresh error)."""
    now = int(time.time())
    combos = list(itertools.product(STORED, EXPIRES_IN, (True, False), ("", "provider said 503")))
    with live_broker.broker.db.session() as s:
        for n, (stored, expires_in, renewable, error) in enumerate(combos):
            s.add(
                ManagedTokenRow(
                    id=f"{app_id}-{n}",
                    app_id=app_id,
                    user_id=f"U{app_id}{n}",
                    status=stored,
                    access_token_expiry=0 if expires_in is None else now + expires_in,
                    refresh_token_sealed="sealed" if renewable else None,
                    last_refresh_error=error,
                    created_at=0.0,
                    updated_at=0.0,
                )
            )
    return len(combos)


@pytest.mark.parametrize(
    "windows",
    [
        StatusWindows(),  # 24 h "expiring soon", 5 min "refresh due"
        StatusWindows(expiring_soon=timedelta(hours=1), refresh_margin=timedelta(hours=4)),
    ],
)
def test_each_detail_keeps_exactly_the_rows_the_dashboard_gives_that_status(
    live_broker: LiveBroker, app_id: str, grid: int, windows: StatusWindows
) -> None:
    seconds = {
        "soon_s": int(windows.expiring_soon.total_seconds()),
        "margin_s": int(windows.refresh_margin.total_seconds()),
    }
    filed: dict[str, str] = {}
    now = datetime.now(UTC)
    for detail in DETAILS:
        query = PageQuery(app_ids=(app_id,), details=(detail,), limit=500, **seconds)
        page = _page(live_broker, query)
        assert page.total == len(page.connections)
        for connection in page.connections:
            assert classify(connection.token, now, windows).value == detail, connection.token
            filed[connection.token.id] = detail

    assert len(filed) == grid  # every row under exactly one detail
    assert set(filed.values()) == set(DETAILS)  # and every detail reached
    both = _page(live_broker, PageQuery(app_ids=(app_id,), details=DETAILS[3:5], **seconds))
    assert both.total == sum(1 for d in filed.values() if d in DETAILS[3:5])  # any of them


def test_the_kpis_are_the_numbers_the_dashboard_computes_from_the_rows(
    live_broker: LiveBroker, app_id: str, grid: int
) -> None:
    page = _page(live_broker, PageQuery(app_ids=(app_id,), limit=500))
    mine = kpis(Classified.of(page.connections, datetime.now(UTC)))

    assert page.kpis is not None and page.kpis.connections == grid == mine.connections
    assert (page.kpis.healthy, page.kpis.failing, page.kpis.ending_24h) == (
        mine.healthy,
        mine.failing_refreshes,
        mine.ending_24h,
    )
    # Ending counts a failing refresh token too; "expiring" only tokens without one.
    assert page.kpis.ending_24h > page.kpis.expiring_24h


@pytest.mark.parametrize(
    "query",
    [
        PageQuery(details=("revoked",)),  # the dashboard's, but the broker never says it
        PageQuery(details=("expiring",)),  # a ``status`` value, not a ``detail`` one
        PageQuery(soon_s=-1),
        PageQuery(margin_s=10**9),
    ],
)
def test_a_bad_detail_or_window_is_one_sentence(live_broker: LiveBroker, query: PageQuery) -> None:
    with pytest.raises(DashboardError) as raised:
        _page(live_broker, query)

    assert str(raised.value) == "That request was not accepted; check the fields and try again."
