"""The outbound apps page: every app as a card, search and sort, connect and disconnect.

Everything a person typed or a provider sent is drawn as text (``literal``), logos only from
safe URLs. Actions run in ``on_click`` callbacks (testable in AppTest, streamlit.md §1.7) and
leave their one-sentence outcome in ``NOTICE_KEY`` for the next run.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import streamlit as st

from dashboard.app_listing import AppListing, load_listing, search_and_sort
from dashboard.descope import (
    CatalogTemplate,
    DashboardError,
    Session,
    delete_user_tokens,
    load_catalog,
)
from dashboard.frame.gates import is_admin
from dashboard.frame.keeper import current_client
from dashboard.frame.widgets import (
    app_logo,
    current_connect,
    literal,
    outbound_app_button,
    scope_chips,
    watch_connect,
)
from dashboard.inventory.bulk import offers_bulk_inventory
from dashboard.inventory.cache import SHARED, cache_key, forget_inventories
from dashboard.inventory.collect import InventoryQuery, collect_inventory
from dashboard.inventory.page import PageQuery, fetch_inventory_page
from dashboard.settings import get_settings
from dashboard.ui.apps_admin import render_admin
from dashboard.ui.apps_connect import SELECTED_KEY, render_connect_options, render_pending
from dashboard.ui.apps_notice import notify, show_notice
from dashboard.ui.welcome import welcome_on_apps

DISCONNECT_KEY = "apps__disconnect"
NO_CATALOG = (
    "This service has no provider catalog (Descope cloud has none): scopes are typed as free"
    " text and apps are created as custom OAuth apps."
)
NO_KEY_DETAILS = (
    "Granted scopes, expiry and disconnect need a management key; without one the page shows"
    " only whether you are connected."
)


def expires_in(when: datetime | None, now: datetime | None = None) -> str:
    """An expiry as a distance: "expires in 52 min", "expired 3 h ago", "no expiry known"."""
    if when is None:
        return "no expiry known"
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    span = abs(seconds)
    if span < 60:
        amount = "under a minute"
    elif span < 3600:
        amount = f"{round(span / 60)} min"
    elif span < 172800:
        amount = f"{round(span / 3600)} h"
    else:
        amount = f"{round(span / 86400)} days"
    return f"expires in {amount}" if seconds >= 0 else f"expired {amount} ago"


def _ask_disconnect(app_id: str) -> None:
    st.session_state[DISCONNECT_KEY] = app_id


def _cancel_disconnect() -> None:
    st.session_state.pop(DISCONNECT_KEY, None)


def _disconnect(app_id: str, app_name: str, user_id: str) -> None:
    """Delete the user's tokens for the app; the outcome (with revocation) as the notice."""
    st.session_state.pop(DISCONNECT_KEY, None)
    try:
        outcome = delete_user_tokens(current_client(), app_id=app_id, user_id=user_id)
    except DashboardError as exc:
        notify("error", exc.sentence)
        return
    forget_inventories()
    failed = any("failed" in (r.access_token, r.refresh_token) for r in outcome.revocations)
    notify(
        "warning" if failed else "success",
        f"Disconnected from {literal(app_name)}. {outcome.sentence}",
    )


@st.dialog("Disconnect?")
def _confirm_disconnect(listing: AppListing, user_id: str) -> None:
    app = listing.app
    if st.session_state.get(DISCONNECT_KEY) != app.id:
        # A button's callback answered: the dialog is a fragment, so rerun the whole page.
        st.rerun()
    st.markdown(
        f"Delete your tokens for **{literal(app.name)}**? The service asks the provider to"
        " revoke them; you can connect again at any time."
    )
    with st.container(horizontal=True):
        st.button(
            "Disconnect",
            type="primary",
            key="apps__disconnect_confirm",
            on_click=_disconnect,
            args=(app.id, app.name, user_id),
        )
        st.button("Cancel", key="apps__disconnect_cancel", on_click=_cancel_disconnect)


def connection_counts() -> Counter[str]:
    """Stored tokens per app id: counted by the broker where it offers the inventory endpoint,
    else from the inventory the tokens page keeps (scanned when absent, as on Descope's cloud).

    Admins only (the caller checks): it reads every user's tokens through the management key.
    """
    client = current_client()
    if offers_bulk_inventory(client):
        try:
            counted = fetch_inventory_page(client, PageQuery(limit=1)).kpis
        except DashboardError:
            return Counter()
        return Counter(counted.by_app) if counted is not None else Counter()
    settings = get_settings()
    key = cache_key(settings.base_url, settings.project_id, InventoryQuery())
    inventory = SHARED.get(key)
    if inventory is None:
        try:
            inventory = collect_inventory(client, InventoryQuery())
        except DashboardError:
            return Counter()
        if inventory.unreadable:
            return Counter()
        SHARED.put(key, inventory)
    return Counter(c.token.app_id for c in inventory.connections)


def _card(
    listing: AppListing,
    template: CatalogTemplate | None,
    session: Session,
    connections: int | None,
) -> None:
    app = listing.app
    can_delete = current_client().has_management_key
    with st.container(border=True, key=f"apps__card__{app.id}"):
        logo, body, actions = st.columns([1, 7, 3], vertical_alignment="top")
        with logo:
            app_logo(app.logo, width=40)
        with body:
            st.markdown(f"**{literal(app.name)}** · {literal(app.id)}")
            if app.description:
                st.caption(literal(app.description))
            if connections is not None:
                people = "connection" if connections == 1 else "connections"
                st.caption(f":material/group: {connections} {people} across all users")
            st.caption("Default scopes")
            scope_chips(app.default_scopes, color="gray")
            if listing.connected:
                st.badge("Connected", color="green", icon=":material/check:")
                if listing.latest is not None:
                    # A refreshable token does not end when its access token expires.
                    when = (
                        "renewed automatically"
                        if listing.latest.has_refresh_token
                        else f"token {expires_in(listing.expires_at)}"
                    )
                    st.caption(f"Granted scopes · {when}")
                    scope_chips(listing.granted_scopes, color="green")
            elif (pending := current_connect()) is not None and pending.app_id == app.id:
                st.badge(
                    "Waiting for your consent", color="orange", icon=":material/hourglass_top:"
                )
            else:
                st.badge("Not connected", color="gray")
        with actions:
            label = "Connect again" if listing.connected else "Connect"
            if outbound_app_button(
                app, label=label, key=f"apps__connect__{app.id}", show_logo=False
            ):
                st.session_state[SELECTED_KEY] = app.id
            if listing.connected:
                st.button(
                    "Disconnect",
                    key=f"apps__disconnect__{app.id}",
                    icon=":material/link_off:",
                    disabled=not can_delete,
                    help=None if can_delete else NO_KEY_DETAILS,
                    on_click=_ask_disconnect,
                    args=(app.id,),
                )
        if st.session_state.get(SELECTED_KEY) == app.id:
            render_connect_options(app, template, session)
        pending = current_connect()
        if pending is not None and pending.app_id == app.id:
            render_pending()  # the link where the person asked for it


def render_outbound_apps(session: Session) -> None:
    """The whole page body for the signed-in ``session``."""
    client = current_client()
    watch_connect()
    show_notice()
    catalog = load_catalog(client, as_user=True)
    listings = load_listing(client)
    welcome_on_apps(listings)
    if catalog is None:
        st.info(NO_CATALOG, icon=":material/info:")
    if not client.has_management_key:
        st.caption(NO_KEY_DETAILS)
    templates = {t.id: t for t in catalog or ()}
    if is_admin(session) and client.has_management_key:
        # App management on a tab of its own, not below every card.
        connect_tab, manage_tab = st.tabs(["Apps", "Manage apps"], key="apps__tab")
        with manage_tab:
            render_admin(catalog, listings)
        with connect_tab:
            _cards(listings, templates, session)
    else:
        _cards(listings, templates, session)


def _cards(
    listings: tuple[AppListing, ...],
    templates: dict[str, CatalogTemplate],
    session: Session,
) -> None:
    """Search, sort and the cards, with the disconnect dialog."""
    search, order = st.columns([3, 1], vertical_alignment="bottom")
    with search:
        query = st.text_input("Search apps", key="apps__search", placeholder="Name or id")
    with order:
        descending = st.selectbox("Sort by name", ["A → Z", "Z → A"], key="apps__sort") == "Z → A"
    shown = search_and_sort(listings, query or "", descending=descending)
    st.caption(f"{len(shown)} of {len(listings)} apps")
    if not listings:
        st.info(
            "No outbound apps yet. "
            + (
                "Create one on the Manage apps tab."
                if is_admin(session)
                else "Ask an administrator to add one."
            ),
            icon=":material/apps:",
        )
    elif not shown:
        st.info("No app matches this search; clear it to see every app.", icon=":material/search:")
    pending = current_connect()
    if pending is not None and pending.app_id not in {item.app.id for item in shown}:
        render_pending()  # its card is filtered out: the link stays reachable
    admin = is_admin(session) and current_client().has_management_key
    counts = connection_counts() if admin and shown else None
    for listing in shown:
        count = None if counts is None else counts[listing.app.id]
        _card(listing, templates.get(listing.app.template_id), session, count)
    wanted = st.session_state.get(DISCONNECT_KEY)
    target_listing = next((item for item in listings if item.app.id == wanted), None)
    if target_listing is not None:
        _confirm_disconnect(target_listing, session.user.user_id)
