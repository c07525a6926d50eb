"""The managed-tokens page: whose tokens, the inventory with progress, the views and the detail.

An admin sees every user's connections (or only their own); anyone else sees only their own,
on the same page. Against the embedded broker the page filters, pages and counts on the server
(``ui/tokens_paged.py``: one page of rows travels, the KPIs are the broker's); against Descope's
cloud, which has no such endpoint, it collects the whole inventory here, kept per target and
query (``dashboard.inventory.cache``) for at most ``SHARED.max_age_s``; while the page is open
a ``run_every`` fragment shows the data's age and rescans once it is that old, so the page
never shows stale tokens for long.
Without a management key the page says exactly what to configure.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from functools import partial

import streamlit as st

from dashboard.descope import (
    DashboardError,
    DescopeClient,
    Session,
    apps_with_user_token,
    list_apps,
)
from dashboard.frame.gates import is_admin, require_admin, require_session
from dashboard.frame.keeper import current_client
from dashboard.frame.state import now
from dashboard.frame.widgets import literal
from dashboard.inventory.bulk import offers_bulk_inventory
from dashboard.inventory.cache import SHARED, CacheKey, cache_key
from dashboard.inventory.collect import collect_inventory
from dashboard.inventory.records import Inventory, InventoryQuery, Progress
from dashboard.inventory.views import Classified, FilterOptions, kpis
from dashboard.settings import get_settings
from dashboard.ui.tokens_paged import render_paged
from dashboard.ui.tokens_shown import (
    apps_of,
    count_of,
    render_empty,
    render_freshness,
    render_shown,
    status_windows,
)
from dashboard.ui.tokens_views import filter_controls, render_kpis, shown_count

EVERYONE, MINE = "All users", "My connections"
STOPPED_KEY = "tokens__stopped"

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


def _summary(inventory: Inventory, key: CacheKey) -> None:
    with st.container(horizontal=True, vertical_alignment="center"):
        st.caption(
            f"{count_of(len(inventory.connections), 'connection')} of"
            f" {count_of(inventory.users_scanned, 'user')}."
        )
        render_freshness(partial(SHARED.age_s, key))
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


def render_tokens_page() -> None:
    """The whole page."""
    session = require_session()
    settings, client = get_settings(), current_client()
    st.title("Managed tokens")
    if not client.has_management_key:
        _missing_key(client, session)
        return
    query = _whose(session)
    if offers_bulk_inventory(client):
        render_paged(client, query)
        return
    key = cache_key(settings.base_url, settings.project_id, query)
    inventory = _load(client, key, query)
    if inventory is None:
        return
    _summary(inventory, key)
    classified = Classified.of(
        inventory.connections, datetime.fromtimestamp(now(), UTC), status_windows()
    )
    if not classified.rows:
        render_empty(query)
        return
    apps = apps_of(client)
    names = {app_id: app.name for app_id, app in apps.items()}
    numbers = st.container()  # drawn after the filters, from what they keep
    filters = filter_controls(FilterOptions.of(classified), names)
    shown = classified.filtered(filters)
    with numbers:
        render_kpis(kpis(shown))
    shown_count(len(shown.rows), len(classified.rows))
    render_shown(client, shown, apps, filters)
