"""The managed-tokens page: whose tokens, the inventory with progress, the views and the detail.

An admin sees every user's connections (or only their own); anyone else sees only their own,
on the same page. The inventory is kept per target and query (``dashboard.inventory.cache``)
for at most ``SHARED.max_age_s``; while the page is open a ``run_every`` fragment shows the
data's age and rescans once it is that old, so the page never shows stale tokens for long.
Without a management key the page says exactly what to configure.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import streamlit as st

from dashboard.descope import (
    CatalogTemplate,
    DashboardError,
    DescopeClient,
    OutboundApp,
    Session,
    apps_with_user_token,
    list_apps,
    load_catalog,
)
from dashboard.frame.gates import is_admin, require_admin, require_session
from dashboard.frame.keeper import current_client
from dashboard.frame.state import now
from dashboard.frame.widgets import literal
from dashboard.inventory.cache import SHARED, CacheKey, cache_key
from dashboard.inventory.collect import collect_inventory
from dashboard.inventory.records import Inventory, InventoryQuery, Progress
from dashboard.inventory.status import DEFAULT_WINDOWS, StatusWindows
from dashboard.inventory.views import Classified
from dashboard.settings import get_settings
from dashboard.ui.tokens_actions import SELECTED_KEY, render_outcome
from dashboard.ui.tokens_detail import hide_reveal_unless, render_detail
from dashboard.ui.tokens_views import (
    filter_controls,
    render_charts,
    render_kpis,
    render_matrix,
    render_table,
    shown_count,
)

EVERYONE, MINE = "All users", "My connections"
STOPPED_KEY = "tokens__stopped"
AGE_TICK_S = 5  # how often the age caption updates (a small fragment run, no scan)

NO_KEY = """This page reads tokens through the Management API, so the dashboard needs a management key.

* **Descope cloud:** add `DESCOPE_MANAGEMENT_KEY=<key>` to `.env` beside `DESCOPE_PROJECT_ID`
  (create the key in the Descope console under *Company → Management keys*), then restart the
  dashboard.
* **Embedded broker:** run `outbound up`; it writes the local key to `.outbound/local.env`
  (`OUTBOUND_MANAGEMENT_KEY`), which the dashboard reads when no `DESCOPE_PROJECT_ID` is set."""


def _missing_key(client: DescopeClient, session: Session) -> None:
    st.info(NO_KEY, icon=":material/key:")
    try:
        mine = apps_with_user_token(client, session.user.user_id, as_user=True)
    except DashboardError as exc:
        st.caption(exc.sentence)
        return
    if mine:
        apps = ", ".join(literal(app_id) for app_id in mine)
        st.write(f"Meanwhile, your own account holds tokens for: {apps}.")
    else:
        st.write("Your own account holds no token yet: connect an app on the Outbound apps page.")


def _whose(session: Session) -> InventoryQuery:
    if is_admin(session):
        view = st.segmented_control(
            "Show", [EVERYONE, MINE], default=EVERYONE, key="tokens__view", required=True
        )
        if view == EVERYONE:
            require_admin()  # the second check (gates.py): only admins see other users
            return InventoryQuery()
    else:
        st.caption("You see your own connections; administrators see everyone's.")
    return InventoryQuery(user_ids=(session.user.user_id,), include_tenants=False)


def _stop() -> None:
    st.session_state[STOPPED_KEY] = True


def _rescan(key: CacheKey) -> None:
    SHARED.drop(key)
    st.session_state.pop(STOPPED_KEY, None)


def _describe(progress: Progress) -> str:
    left = progress.remaining_s
    eta = f" · about {left:.0f} s left" if left is not None and progress.done else ""
    return f"{progress.done} of {progress.total} calls{eta}"


def _load(client: DescopeClient, key: CacheKey, query: InventoryQuery) -> Inventory | None:
    kept = SHARED.get(key)
    if kept is not None:
        return kept
    if st.session_state.get(STOPPED_KEY):
        st.info("The scan was stopped. Press **Scan again** when you are ready.")
        st.button("Scan again", key="tokens__rescan", on_click=_rescan, args=(key,))
        return None
    bar = st.progress(0.0, text="Looking for tokens…")

    def show(progress: Progress) -> None:
        bar.progress(progress.fraction, text=_describe(progress))

    stop = st.empty()  # the Stop button goes away with the bar
    stop.button("Stop", key="tokens__stop", on_click=_stop)
    # A click on Stop reruns the page, which interrupts this call at its next progress update;
    # the scan then cancels the calls it has not made yet.
    inventory = collect_inventory(
        client,
        query,
        on_progress=show,
        cancel=threading.Event(),
    )
    bar.empty()
    stop.empty()
    if inventory.unreadable:
        # Not "no tokens": the service is down or broken. Its own error is the page's one
        # sentence (this call raises it), and nothing is kept, so the next run scans again.
        list_apps(client)
        return inventory
    SHARED.put(key, inventory)
    return inventory


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _ago(seconds: float) -> str:
    if seconds < 60:
        return f"{int(seconds)} s ago"
    return f"{int(seconds // 60)} min ago"


@st.fragment(run_every=AGE_TICK_S)
def _freshness(key: CacheKey) -> None:
    """The data's age; once it is older than the cache allows, the whole page scans anew."""
    age = SHARED.age_s(key)
    if age is None or age > SHARED.max_age_s:
        st.rerun(scope="app")
    st.caption(
        f":material/update: Updated {_ago(age or 0)} · updates itself every"
        f" {SHARED.max_age_s:.0f} s"
    )


def _summary(inventory: Inventory, key: CacheKey) -> None:
    with st.container(horizontal=True, vertical_alignment="center"):
        st.caption(
            f"{_count(len(inventory.connections), 'connection')} of"
            f" {_count(inventory.users_scanned, 'user')}."
        )
        _freshness(key)
        st.button(
            "Refresh",
            key="tokens__refresh",
            on_click=_rescan,
            args=(key,),
            icon=":material/refresh:",
        )
    if inventory.failures:
        with st.expander(
            f"{len(inventory.failures)} look-ups failed; the rest is shown",
            icon=":material/warning:",
        ):
            for failure in inventory.failures:
                who = failure.user_label or failure.user_id or failure.tenant_id or "—"
                where = f" · {failure.app_id}" if failure.app_id else ""
                st.write(f"**{literal(who)}**{literal(where)}: {literal(failure.sentence)}")


def _windows() -> StatusWindows:
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


def _empty(query: InventoryQuery) -> None:
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


def render_tokens_page() -> None:
    """The whole page."""
    session = require_session()
    settings, client = get_settings(), current_client()
    st.title("Managed tokens")
    if not client.has_management_key:
        _missing_key(client, session)
        return
    query = _whose(session)
    key = cache_key(settings.base_url, settings.project_id, query)
    inventory = _load(client, key, query)
    if inventory is None:
        return
    _summary(inventory, key)
    classified = Classified.of(
        inventory.connections, datetime.fromtimestamp(now(), UTC), _windows()
    )
    if not classified.rows:
        render_outcome()  # e.g. the disconnect that removed the last one
        _empty(query)
        return
    apps = {a.id: a for a in _apps(client)}
    names = {app_id: app.name for app_id, app in apps.items()}
    numbers = st.container()  # drawn after the filters, from what they keep
    filters = filter_controls(classified, names)
    shown = classified.filtered(filters)
    with numbers:
        render_kpis(shown)
    shown_count(len(shown.rows), len(classified.rows))
    # Lazy tabs: only the open one is computed and sent, so the first paint draws the table
    # alone, not also the matrix and three charts (docs/performance.md, the page benchmark).
    table, grid, charts = st.tabs(
        ["Table", "Users × apps", "Charts"], key="tokens__tab", on_change="rerun"
    )
    if table.open:
        with table:
            if shown.rows:
                render_table(shown, names)
            else:
                st.info("No connection matches these filters; clear one to see more.")
    if grid.open:
        with grid:
            render_matrix(shown)
    if charts.open:
        with charts:
            render_charts(shown, names)
    selected = shown.find(str(st.session_state.get(SELECTED_KEY, "")))
    # A revealed access token hides again once the selection, the filters or the tab change.
    hide_reveal_unless(
        (selected[0].token.id if selected else "", filters, st.session_state.get("tokens__tab"))
    )
    if selected is None:
        render_outcome()  # e.g. after a delete, whose row (and detail) is gone
        st.caption("Select a row of the table to see the token in detail and act on it.")
        return
    connection, status = selected
    app = apps.get(connection.token.app_id)
    render_detail(connection, status, app, _template(client, app))


def _apps(client: DescopeClient) -> tuple[OutboundApp, ...]:
    try:
        return list_apps(client)
    except DashboardError:
        return ()


def _template(client: DescopeClient, app: OutboundApp | None) -> CatalogTemplate | None:
    if app is None or not app.template_id:
        return None
    try:
        catalog = load_catalog(client)
    except DashboardError:
        return None
    return next((t for t in catalog or () if t.id == app.template_id), None)
