"""What both paths of the tokens page draw alike: the status windows, the table / matrix /
charts tabs of the connections shown, and the selected token's detail.

The page either collects the whole inventory (``ui/tokens.py``, Descope's cloud) or asks the
broker for one filtered page (``ui/tokens_paged.py``); from the classified rows on, both look
and behave the same.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import timedelta

import streamlit as st

from dashboard.descope import (
    CatalogTemplate,
    DashboardError,
    DescopeClient,
    OutboundApp,
    list_apps,
    load_catalog,
)
from dashboard.inventory.cache import SHARED
from dashboard.inventory.page import InventoryKpis
from dashboard.inventory.records import InventoryQuery
from dashboard.inventory.status import DEFAULT_WINDOWS, StatusWindows
from dashboard.inventory.views import Classified
from dashboard.ui.tokens_actions import SELECTED_KEY, render_outcome
from dashboard.ui.tokens_detail import hide_reveal_unless, render_detail
from dashboard.ui.tokens_views import render_charts, render_matrix, render_table

AGE_TICK_S = 5  # how often the age caption updates (a small fragment run, no scan)


def count_of(n: int, noun: str) -> str:
    """``1 connection``, ``7 connections``."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def ago(seconds: float) -> str:
    """``12 s ago``, ``3 min ago``."""
    if seconds < 60:
        return f"{int(seconds)} s ago"
    return f"{int(seconds // 60)} min ago"


@st.fragment(run_every=AGE_TICK_S)
def render_freshness(age_s: Callable[[], float | None]) -> None:
    """The data's age; once it is older than the inventory's bound (``SHARED.max_age_s``), the
    whole page reads anew."""
    age = age_s()
    if age is None or age > SHARED.max_age_s:
        st.rerun(scope="app")
    st.caption(
        f":material/update: Updated {ago(age or 0)} · updates itself every {SHARED.max_age_s:.0f} s"
    )


def status_windows() -> StatusWindows:
    """The popover that sets the "expiring soon" and "refresh due" windows; what it sets."""
    with st.popover("Status windows", icon=":material/timer:"):
        soon = st.number_input(
            "Without a refresh token, “expiring soon” within (hours)",
            min_value=1,
            max_value=24 * 30,
            value=int(DEFAULT_WINDOWS.expiring_soon.total_seconds() // 3600),
            key="tokens__w_soon",
        )
        margin = st.number_input(
            "With a refresh token, “refresh due” within (minutes)",
            min_value=1,
            max_value=24 * 60,
            value=int(DEFAULT_WINDOWS.refresh_margin.total_seconds() // 60),
            key="tokens__w_margin",
        )
    return StatusWindows(
        expiring_soon=timedelta(hours=soon), refresh_margin=timedelta(minutes=margin)
    )


def render_empty(query: InventoryQuery) -> None:
    """No connection at all: how to get one."""
    render_outcome()  # e.g. the disconnect that removed the last one
    if query.user_ids:
        st.info(
            "You have no connected app yet. Open **Outbound apps** and connect one; its token "
            "shows up here."
        )
    else:
        st.info(
            "No user holds a token yet. Connect an app from **Outbound apps** (or run "
            "`outbound seed` for demo data); tokens show up here."
        )


def apps_of(client: DescopeClient) -> dict[str, OutboundApp]:
    """The outbound apps by id (none when they cannot be read: the ids are shown instead)."""
    try:
        return {a.id: a for a in list_apps(client)}
    except DashboardError:
        return {}


def _template(client: DescopeClient, app: OutboundApp | None) -> CatalogTemplate | None:
    if app is None or not app.template_id:
        return None
    try:
        catalog = load_catalog(client)
    except DashboardError:
        return None
    return next((t for t in catalog or () if t.id == app.template_id), None)


def _charts_note(partial: str, totals: InventoryKpis | None) -> str:
    """What the charts draw when ``shown`` is one page: all of it (``totals``) but the timeline."""
    if totals is None:
        return partial
    return (
        f"Connections per app and the status breakdown count all {totals.connections:,}"
        " connections the filters keep; the expiry timeline draws this page's."
    )


def render_shown(
    client: DescopeClient,
    shown: Classified,
    apps: dict[str, OutboundApp],
    view: Hashable,
    partial: str = "",
    export: Callable[[], Classified] | None = None,
    totals: InventoryKpis | None = None,
) -> None:
    """The tabs over ``shown`` and the selected token's detail. ``view`` is what a revealed
    token is bound to (it hides once that changes); ``partial`` notes, above the matrix and
    the charts, that they draw only some of the connections (one page of them); ``export``
    gives the rows the CSV holds, when they are more than ``shown``; ``totals``, the broker's
    numbers over all of them, which the charts' breakdowns then draw instead of the page's."""
    names = {app_id: app.name for app_id, app in apps.items()}
    # Lazy tabs: only the open one is computed and sent, so the first paint draws the table
    # alone, not also the matrix and three charts (docs/performance.md, the page benchmark).
    table, grid, charts = st.tabs(
        ["Table", "Users × apps", "Charts"], key="tokens__tab", on_change="rerun"
    )
    if table.open:
        with table:
            if shown.rows:
                render_table(shown, names, export)
            else:
                st.info("No connection matches these filters; clear one to see more.")
    if grid.open:
        with grid:
            if partial:
                st.caption(partial)
            render_matrix(shown)
    if charts.open:
        with charts:
            if partial:
                st.caption(_charts_note(partial, totals))
            render_charts(shown, names, totals)
    selected = shown.find(str(st.session_state.get(SELECTED_KEY, "")))
    # A revealed access token hides again once the selection, the view or the tab change.
    hide_reveal_unless(
        (selected[0].token.id if selected else "", view, st.session_state.get("tokens__tab"))
    )
    if selected is None:
        render_outcome()  # e.g. after a delete, whose row (and detail) is gone
        st.caption("Select a row of the table to see the token in detail and act on it.")
        return
    connection, status = selected
    app = apps.get(connection.token.app_id)
    render_detail(connection, status, app, _template(client, app))
