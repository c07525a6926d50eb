"""The tokens page against the embedded broker: filtered, paged and counted on the server.

With 100,000 tokens the page cannot ship every row to the browser. Each run asks the broker's
inventory extension (``dashboard.inventory.page``) twice: one row with the KPIs of the whole
(unfiltered) view, then the page on screen with the filters as query parameters and, when a
filter is set, the KPIs of everything it keeps, all computed by the database. Nothing is kept
between runs: every run shows what the broker holds now, so an action's effect (a disconnect,
a refresh) shows at once. The statuses are the dashboard's own (``detail``, with the page's
status windows), so a row, a filter and a count agree.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime

import streamlit as st

from dashboard.descope import DescopeClient
from dashboard.frame.state import now
from dashboard.inventory.page import (
    DETAILS,
    InventoryKpis,
    InventoryPage,
    PageQuery,
    fetch_every_page,
    fetch_inventory_page,
)
from dashboard.inventory.records import InventoryQuery
from dashboard.inventory.status import SEVERITY, StatusWindows
from dashboard.inventory.views import Classified, FilterOptions, Filters, Kpis
from dashboard.ui.tokens_shown import (
    apps_of,
    count_of,
    render_empty,
    render_freshness,
    render_shown,
    status_windows,
)
from dashboard.ui.tokens_views import filter_controls, render_kpis, shown_count

PAGE_KEY = "tokens__page"  # the pagination widget's value: 1-based
SIZE_KEY = "tokens__page_size"
FILTERS_KEY = "tokens__paged_filters"  # the filters of the last run (a change goes to page 1)
READ_AT_KEY = "tokens__read_at"  # when this session last read the inventory (monotonic)
PAGE_SIZES = (10, 50, 100, 500)
DEFAULT_PAGE_SIZE = 100
# The statuses the broker can tell (``DETAILS``), most urgent first; it never says "revoked".
STATUS_OPTIONS = tuple(s for s in SEVERITY if s.value in DETAILS)


def page_query(
    filters: Filters, query: InventoryQuery, windows: StatusWindows, page: int, limit: int
) -> PageQuery:
    """The broker's query for ``filters`` over whose tokens ``query`` asks (one user or all)."""
    return PageQuery(
        page=page,
        limit=limit,
        app_ids=filters.apps,
        details=tuple(s.value for s in filters.statuses),
        user_text=filters.user_text,
        tenant_text=filters.tenant_text,
        scope_text=filters.scope_text,
        user_id=query.user_ids[0] if query.user_ids else "",
        soon_s=int(windows.expiring_soon.total_seconds()),
        margin_s=int(windows.refresh_margin.total_seconds()),
    )


def page_kpis(numbers: InventoryKpis) -> Kpis:
    """The broker's numbers as the four the page shows."""
    return Kpis(
        connections=numbers.connections,
        healthy=numbers.healthy,
        failing_refreshes=numbers.failing,
        ending_24h=numbers.ending_24h,
    )


def _reread() -> None:
    st.session_state.pop(READ_AT_KEY, None)


def _read_age_s() -> float | None:
    read_at = st.session_state.get(READ_AT_KEY)
    return None if read_at is None else time.monotonic() - float(read_at)


def _summary(whole: InventoryKpis) -> None:
    with st.container(horizontal=True, vertical_alignment="center"):
        st.caption(
            f"{count_of(whole.connections, 'connection')} of {count_of(whole.users, 'user')}."
        )
        render_freshness(_read_age_s)
        st.button("Refresh", key="tokens__refresh", on_click=_reread, icon=":material/refresh:")


def _paging(page: InventoryPage) -> None:
    """Page n of m, the pages, and the rows per page."""
    with st.container(horizontal=True, vertical_alignment="center"):
        if page.pages > 1:
            st.pagination(page.pages, key=PAGE_KEY, max_visible_pages=7)
        st.caption(f"Page {page.page + 1:,} of {page.pages:,}")
        st.selectbox(
            "Rows per page",
            PAGE_SIZES,
            index=PAGE_SIZES.index(DEFAULT_PAGE_SIZE),
            key=SIZE_KEY,
            width=140,
        )


def _read(client: DescopeClient, asked: PageQuery) -> InventoryPage:
    """``asked``, or its last page when it asked past the end (rows went away meanwhile)."""
    found = fetch_inventory_page(client, asked)
    if found.connections or found.page < found.pages:
        return found
    st.session_state[PAGE_KEY] = found.pages
    return fetch_inventory_page(client, replace(asked, page=found.pages - 1))


def _numbers(page: InventoryPage) -> InventoryKpis:
    """The page's KPIs (asked for; an answer without them counts its total only)."""
    return page.kpis or InventoryKpis.from_api({"connections": page.total})


def render_paged(client: DescopeClient, query: InventoryQuery) -> None:
    """The page, one server-side page of rows at a time."""
    summary = st.container()
    windows = status_windows()
    whole = fetch_inventory_page(client, page_query(Filters(), query, windows, 0, 1))
    st.session_state[READ_AT_KEY] = time.monotonic()
    everything = _numbers(whole)
    with summary:
        _summary(everything)
    if not whole.total:
        render_empty(query)
        return
    numbers = st.container()  # drawn after the filters, from the broker's counts
    apps = apps_of(client)
    names = {app_id: app.name for app_id, app in apps.items()}
    # Every app and status the broker can tell (what a page holds is not all there is); the
    # tenant filter wherever tenants' tokens can show (not in one person's own view).
    options = FilterOptions(
        apps=tuple(sorted(apps)), statuses=STATUS_OPTIONS, tenants=not query.user_ids
    )
    filters = filter_controls(options, names)
    limit = int(st.session_state.get(SIZE_KEY, DEFAULT_PAGE_SIZE))
    if st.session_state.get(FILTERS_KEY) != (filters, windows, limit):
        st.session_state[FILTERS_KEY] = (filters, windows, limit)
        st.session_state[PAGE_KEY] = 1  # new filters start at their first page
    number = max(int(st.session_state.get(PAGE_KEY, 1)), 1) - 1
    filtered = filters != Filters()
    asked = replace(page_query(filters, query, windows, number, limit), with_kpis=filtered)
    page = _read(client, asked)
    totals = _numbers(page) if filtered else everything
    with numbers:
        render_kpis(page_kpis(totals))
    shown_count(page.total, whole.total)
    _paging(page)
    moment = datetime.fromtimestamp(now(), UTC)
    shown = Classified.of(page.connections, moment, windows)
    partial = (
        f"The {count_of(len(shown.rows), 'connection')} of this page (of {page.total:,});"
        " filter to narrow."
        if page.pages > 1
        else ""
    )
    everyone = replace(asked, page=0)

    def export() -> Classified:
        rows = fetch_every_page(client, everyone)
        return Classified.of(rows, moment, windows)  # as the table was classified

    view = (filters, page.page, limit)
    render_shown(client, shown, apps, view, partial, export, totals if page.pages > 1 else None)
