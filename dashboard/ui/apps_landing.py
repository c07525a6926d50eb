"""The landing page of an OAuth connect: what the broker says about the flow, never the URL's claim.

The redirect opens a new tab and a new Streamlit session (streamlit.md §1.8, §4 #17); the
entrypoint has already restored whoever is signed in in this browser from the session cookie.
The page reads its query once, clears it from the URL, and:

* with a one-time ``flow`` id (the embedded broker): asks the broker for that flow's outcome as
  the signed-in user (or as nobody) — this is the user verifier's confirmation, so a grant
  approved by someone else's browser is refused and withdrawn here — and shows the answer: the
  app, the granted scopes against the requested ones, or one sentence (a replayed or stale
  landing URL says so);
* without one (Descope's cloud, a strict broker): claims nothing about the attempt and shows
  whether the signed-in account holds a token for the app named in the URL now;
* with ``reconnect`` (an admin's reconnect link): hands over to ``tokens_reconnect``.

The tab that started the connect updates by itself (``widgets.watch_connect``).
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from dashboard.app_listing import ConnectOutcome
from dashboard.descope import (
    DashboardError,
    apps_with_user_token,
    confirm_flow,
    list_apps,
)
from dashboard.frame.keeper import current_client
from dashboard.frame.navigation import HOME, SIGN_IN, page
from dashboard.frame.state import current_session
from dashboard.frame.widgets import app_logo, literal
from dashboard.inventory.cache import forget_inventories
from dashboard.ui.tokens_reconnect import RECONNECT_PARAM, keep_reconnect_link, render_link_use

OUTCOME_KEY = "landing__outcome"


@dataclass(frozen=True)
class Landing:
    """What this tab learned: the broker's outcome, or (where it cannot say) whether the
    signed-in account holds the app now (None: nobody is signed in)."""

    app_id: str
    outcome: ConnectOutcome | None = None
    holds: bool | None = None
    failure: str = ""


def _holds(app_id: str) -> bool | None:
    session = current_session()
    if session is None or not app_id:
        return None
    # userId=<me> with the user's own JWT, as Descope's outbound-applications widget asks.
    mine = apps_with_user_token(current_client(), session.user.user_id, as_user=True)
    return app_id in mine


def _learn(query: dict[str, str]) -> Landing | None:
    """Ask the broker about the flow in the query (once); None when the query has none."""
    app_id = query.get("appId") or query.get("app") or ""
    flow = query.get("flow", "")
    if not flow and not app_id:
        return None
    try:
        signed_in = current_session() is not None
        answer = confirm_flow(current_client(), flow, as_user=signed_in) if flow else None
        if answer is not None:
            return Landing(app_id=answer.app_id or app_id, outcome=ConnectOutcome.from_flow(answer))
        return Landing(app_id=app_id, holds=_holds(app_id))
    except DashboardError as exc:
        return Landing(app_id=app_id, failure=exc.sentence)


def _landing() -> Landing | None:
    """What this tab learned from its URL (asked once, then the URL is cleared)."""
    query = st.query_params.to_dict()
    if query:
        st.query_params.clear()
        if query.get(RECONNECT_PARAM):
            keep_reconnect_link(query[RECONNECT_PARAM])
        else:
            st.session_state[OUTCOME_KEY] = _learn(query)
        forget_inventories()  # so Managed tokens, in this tab or another, shows the change
    kept = st.session_state.get(OUTCOME_KEY)
    return kept if isinstance(kept, Landing) else None


def _app_name_and_logo(app_id: str) -> tuple[str, str]:
    """The app's name and logo when this tab is signed in (the cookie restores it), else its id."""
    if current_session() is None:
        return app_id, ""
    try:
        apps = list_apps(current_client(), as_user=True)
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


def _show_outcome(name: str, outcome: ConnectOutcome) -> None:
    if outcome.connected:
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
        return
    st.error(f"{literal(name)}: {outcome.sentence}", icon=":material/error:")
    if outcome.error_description:
        st.caption("The provider said:")
        st.text(outcome.error_description[:300])


def _show_holding(name: str, landing: Landing) -> None:
    if landing.holds is None:
        st.info("Sign in to see whether your account holds this connection now.")
        return
    if landing.holds:
        st.success(f"Your account holds a connection to {literal(name)}.")
    else:
        st.warning(f"Your account holds no connection to {literal(name)}: it did not complete.")
    st.caption(
        "The service does not report on a single connection attempt, so this is what your"
        " account holds now."
    )


def render_landing() -> None:
    """The whole landing page body."""
    landing = _landing()
    if render_link_use():
        return
    if landing is None:
        st.title("Connected")
        st.write("This page shows the outcome of a connection; there is none to show here.")
        _way_back()
        return
    name, logo = _app_name_and_logo(landing.app_id)
    known = landing.outcome.connected if landing.outcome else landing.holds
    st.title("Connection" if known is None else "Connected" if known else "Not connected")
    app_logo(logo, width=48)
    if landing.failure:
        st.error(landing.failure, icon=":material/error:")
    elif landing.outcome is not None:
        _show_outcome(name, landing.outcome)
    else:
        _show_holding(name, landing)
    _way_back()
