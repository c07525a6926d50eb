"""The landing page of an OAuth connect: the outcome the broker's callback put in the query.

The redirect opens a new tab and a new Streamlit session (streamlit.md §1.8, §4 #17), so the
page needs no session: it reads the outcome, keeps it for this tab, clears the URL, and shows
the app, the granted scopes against the requested ones, or the provider's error in one
sentence. The tab that started the connect updates by itself (``widgets.watch_connect``).
"""

from __future__ import annotations

import streamlit as st

from dashboard.app_listing import ConnectOutcome
from dashboard.descope.errors import DashboardError
from dashboard.descope.outbound import list_apps
from dashboard.inventory_cache import forget_inventories
from dashboard.navigation import HOME, SIGN_IN, page
from dashboard.state import current_session
from dashboard.target import current_target
from dashboard.widgets import app_logo, literal

OUTCOME_KEY = "landing__outcome"


def _outcome() -> ConnectOutcome | None:
    """The outcome in the URL (then cleared from it), or the one this tab already read."""
    parsed = ConnectOutcome.from_query(st.query_params.to_dict())
    if parsed is not None:
        st.session_state[OUTCOME_KEY] = parsed
        st.query_params.clear()
        forget_inventories()  # so Managed tokens, in this tab or another, shows the change
    kept = st.session_state.get(OUTCOME_KEY)
    return kept if isinstance(kept, ConnectOutcome) else None


def _app_name_and_logo(app_id: str) -> tuple[str, str]:
    """The app's name and logo when this tab is signed in (the cookie restores it), else its id."""
    session = current_session()
    if session is None:
        return app_id, ""
    try:
        apps = list_apps(current_target().transport, token=session.refresh_jwt.reveal())
    except DashboardError:
        return app_id, ""
    app = next((a for a in apps if a.id == app_id), None)
    return (app.name, app.logo) if app else (app_id, "")


def scope_table(outcome: ConnectOutcome) -> list[dict[str, str]]:
    """Each scope asked for or granted, with whether it was requested and granted."""
    return [
        {
            "Scope": scope,
            "Requested": "yes" if asked else "no",
            "Granted": "granted" if got else "not granted",
        }
        for scope, asked, got in outcome.scope_rows()
    ]


def _way_back() -> None:
    if current_session() is not None:
        st.page_link(page(HOME), label="Back to the outbound apps", icon=":material/arrow_back:")
    else:
        st.page_link(page(SIGN_IN), label="Sign in to the dashboard", icon=":material/login:")
    st.caption("You can also close this tab: the tab you started from updates by itself.")


def render_landing() -> None:
    """The whole landing page body."""
    outcome = _outcome()
    if outcome is None:
        st.title("Connected")
        st.write("This page shows the outcome of a connection; there is none to show here.")
        _way_back()
        return
    name, logo = _app_name_and_logo(outcome.app_id)
    if outcome.connected:
        st.title("Connected")
        app_logo(logo, width=48)
        st.success(f"{literal(name)} is connected.", icon=":material/check_circle:")
        missing = [s for s, asked, got in outcome.scope_rows() if asked and not got]
        if missing:
            st.warning(
                f"The provider granted fewer scopes than requested: {literal(' '.join(missing))}"
                " was not granted."
            )
        st.dataframe(scope_table(outcome), hide_index=True, key="landing__scopes")
        if not outcome.has_refresh_token:
            st.caption("No refresh token was issued: the connection ends when the token expires.")
    else:
        st.title("Not connected")
        app_logo(logo, width=48)
        st.error(f"{literal(name)}: {outcome.sentence}", icon=":material/error:")
        if outcome.error_description:
            st.caption("The provider said:")
            st.text(outcome.error_description[:300])
    _way_back()
