"""Server-side paging of the inventory, tested from both ends: the broker's filters and KPIs
(``inventory_query``) and the dashboard's client (``dashboard.inventory.page``) reading them."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from dashboard.descope import Secret
from dashboard.descope.errors import DashboardError
from dashboard.descope.transport import Transport
from dashboard.inventory.page import (
    InventoryPage,
    PageQuery,
    fetch_every_page,
    fetch_inventory_page,
)
from dashboard.inventory.status import StatusWindows
from dashboard.inventory.views import Classified
from tests.support.dashboard import client_of
from tests.support.servers import LiveBroker
from tests.support.token_seed import CAL, MAIL, SeededTokens


def _page(live: LiveBroker, query: PageQuery) -> InventoryPage:
    with Transport(live.url, live.project_id, Secret(live.management_key)) as transport:
        return fetch_inventory_page(client_of(transport), query)


def _owners(page: InventoryPage) -> set[tuple[str, str]]:
    return {(c.user_name or c.tenant_name, c.token.app_id) for c in page.connections}


def test_the_first_page_carries_the_kpis_of_every_token(
    live_broker: LiveBroker, seeded: SeededTokens
) -> None:
    page = _page(live_broker, PageQuery())

    assert page.total == 7 and len(page.connections) == 7 and page.pages == 1
    kpis = page.kpis
    assert kpis is not None
    assert (kpis.connections, kpis.users) == (7, 4)  # ada, bob, cyd, dee; Globex is a tenant
    assert kpis.by_status == {
        "active": 5, "expiring": 0, "expired": 1, "refresh_failed": 1, "needs_reauth": 0,
    }  # fmt: skip
    assert kpis.by_app == {CAL: 4, MAIL: 3}
    # Healthy: renewable and fine now (ada ×2, bob's calendar); not dee's or Globex's, which
    # nothing renews, nor the expired and the failing one.
    assert (kpis.healthy, kpis.failing) == (3, 1)
    assert kpis.expiring_24h == 1  # dee's, 2 h left and no refresh token
    assert kpis.without_refresh_token == 3  # bob's mail, dee's, Globex's
    assert kpis.healthy_share == pytest.approx(3 / 7)


def test_the_kpis_follow_the_filters(live_broker: LiveBroker, seeded: SeededTokens) -> None:
    page = _page(live_broker, PageQuery(app_ids=(MAIL,)))

    assert _owners(page) == {("ada", MAIL), ("bob", MAIL), ("dee", MAIL)}
    assert page.kpis is not None
    assert (page.kpis.connections, page.kpis.users, page.kpis.healthy) == (3, 3, 1)
    assert page.kpis.by_app == {MAIL: 3}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (PageQuery(statuses=("expired", "refresh_failed")), {("bob", MAIL), ("cyd", CAL)}),
        (PageQuery(app_ids=(CAL, MAIL), user_text="  ADA "), {("ada", CAL), ("ada", MAIL)}),
        (PageQuery(tenant_text="globex"), {("Globex", CAL)}),
        (PageQuery(user_text="dee@example"), {("dee", MAIL)}),
        (PageQuery(user_text="100%_"), set()),  # LIKE wildcards are taken literally
    ],
)
def test_filters_run_in_the_broker(
    live_broker: LiveBroker,
    seeded: SeededTokens,
    query: PageQuery,
    expected: set[tuple[str, str]],
) -> None:
    page = _page(live_broker, query)

    assert _owners(page) == expected
    assert page.total == len(expected)
    assert page.kpis is not None and page.kpis.connections == len(expected)


def test_the_scope_filter_finds_a_granted_scope(
    live_broker: LiveBroker, seeded: SeededTokens
) -> None:
    page = _page(live_broker, PageQuery(scope_text="CALENDAR.READ", user_text="dee"))

    assert _owners(page) == {("dee", MAIL)}
    assert "calendar.read" in page.connections[0].token.scopes


def test_pages_split_the_filtered_rows_in_a_stable_order(
    live_broker: LiveBroker, seeded: SeededTokens
) -> None:
    pages = [_page(live_broker, PageQuery(page=n, limit=3, with_kpis=False)) for n in range(3)]

    assert [len(p.connections) for p in pages] == [3, 3, 1]
    assert all(p.total == 7 and p.pages == 3 and p.kpis is None for p in pages)
    ids = [c.token.id for p in pages for c in p.connections]
    assert len(set(ids)) == 7


def test_the_export_reads_every_page_the_filters_keep(
    live_broker: LiveBroker, seeded: SeededTokens
) -> None:
    query = PageQuery(page=5, limit=1, app_ids=(CAL,))  # the page on screen does not matter
    with Transport(
        live_broker.url, live_broker.project_id, Secret(live_broker.management_key)
    ) as t:
        rows = fetch_every_page(client_of(t), query, page_size=3)  # CAL's 4 rows: 2 pages

    assert sorted(c.user_name or c.tenant_name for c in rows) == ["Globex", "ada", "bob", "cyd"]
    assert len({c.token.id for c in rows}) == 4
    assert all(not c.token.access_token and not c.token.refresh_token for c in rows)


def test_a_page_never_carries_a_secret(live_broker: LiveBroker, seeded: SeededTokens) -> None:
    page = _page(live_broker, PageQuery())

    assert all(not c.token.access_token and not c.token.refresh_token for c in page.connections)


def test_a_bad_query_is_one_sentence(live_broker: LiveBroker, seeded: SeededTokens) -> None:
    with pytest.raises(DashboardError) as raised:
        _page(live_broker, PageQuery(statuses=("sleepy",)))

    # The dashboard's own sentence for a refused request (no broker text, no traceback).
    assert str(raised.value) == "That request was not accepted; check the fields and try again."


@pytest.mark.parametrize("soon_h", [1, 3])
def test_the_finer_statuses_are_counted_as_the_dashboard_classifies_them(
    live_broker: LiveBroker, seeded: SeededTokens, soon_h: int
) -> None:
    """``byDetail`` (what the charts break down at any size) is the dashboard's own classifier
    run over every row, with the same windows: dee's token (2 h left, no refresh token) is
    "expiring soon" within 3 h, and only "no refresh token" within 1 h."""
    windows = StatusWindows(expiring_soon=timedelta(hours=soon_h), refresh_margin=timedelta(0))
    query = PageQuery(soon_s=soon_h * 3600, margin_s=0)
    moment = datetime.now(UTC)
    page = _page(live_broker, query)
    with Transport(
        live_broker.url, live_broker.project_id, Secret(live_broker.management_key)
    ) as t:
        rows = fetch_every_page(client_of(t), query)
    classified = Classified.of(rows, moment, windows)

    assert page.kpis is not None
    counted = {name: n for name, n in page.kpis.by_detail.items() if n}
    assert counted == dict(Counter(str(status) for _, status in classified.rows))
    assert sum(page.kpis.by_detail.values()) == page.kpis.connections == 7
    assert counted.get("expiring_soon", 0) == (1 if soon_h == 3 else 0)
