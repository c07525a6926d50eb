"""Reconnect links: the admin's side (in a dead token's detail) and the user's (on the landing).

Admin: for a token whose status is ``needs_reauth`` or ``refresh_failed``, "Create a reconnect
link" asks the broker for a single-use link bound to that user and app (same scopes) and shows
it to copy or send: ``<dashboard>/connected?reconnect=<secret>``. The secret is a one-time
capability like a password-reset link; the landing page clears it from the address bar.

User: the landing page keeps the link for this tab; signed in as themself, the user starts the
reconnect (a click, so that link previews never spend it) and follows the consent link. Anyone
else is told the link is not theirs, and nothing happens.
"""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from dashboard.descope import (
    DashboardError,
    create_reconnect_link,
    start_reconnect,
)
from dashboard.frame.keeper import current_client
from dashboard.frame.navigation import SIGN_IN, page
from dashboard.frame.state import current_session
from dashboard.frame.widgets import landing_url, literal, scope_chips
from dashboard.inventory.records import Connection
from dashboard.inventory.status import TokenStatus

RECONNECT_PARAM = "reconnect"
LINK_KEY = "reconnect__link"
CONSENT_KEY = "reconnect__consent_url"
ERROR_KEY = "reconnect__error"
_MADE_PREFIX = "reconnect__made__"
_DEAD = (TokenStatus.NEEDS_REAUTH, TokenStatus.REFRESH_FAILED)


def _create(token_id: str) -> None:
    key = _MADE_PREFIX + token_id
    try:
        made = create_reconnect_link(current_client(), token_id)
    except DashboardError as exc:
        st.session_state[key] = exc.sentence
        return
    if made is None:
        st.session_state[key] = "Reconnect links need the embedded broker; this target has none."
        return
    url = f"{landing_url()}?{urlencode({RECONNECT_PARAM: made.link})}"
    until = made.expires_at.strftime("%Y-%m-%d %H:%M UTC") if made.expires_at else "soon"
    st.session_state[key] = (url, until, made.scopes)


def render_reconnect(connection: Connection, status: TokenStatus) -> None:
    """For a dead token: the button that makes a reconnect link, and the link to copy."""
    token = connection.token
    if status not in _DEAD or not token.user_id:
        return
    if not current_client().has_management_key:
        return
    with st.container(border=True, key="reconnect__admin"):
        st.markdown("**Reconnect link**")
        st.caption(
            f"Send {literal(connection.owner_label)} a link to connect this app again: it works"
            " once, only when they are signed in as themself, with the same scopes; the new"
            " grant replaces this token."
        )
        st.button(
            "Create a reconnect link",
            key=f"reconnect__create__{token.id}",
            icon=":material/add_link:",
            on_click=_create,
            args=(token.id,),
        )
        made = st.session_state.get(_MADE_PREFIX + token.id)
        if isinstance(made, str):
            st.error(made)
        elif isinstance(made, tuple):
            url, until, scopes = made
            st.code(url, language=None, wrap_lines=True)
            st.caption(f"Single use, for this user only, until {until}. Scopes:")
            scope_chips(scopes, empty="the app's defaults")


def keep_reconnect_link(link: str) -> None:
    """Remember the link this tab was opened with (the URL is cleared afterwards)."""
    st.session_state[LINK_KEY] = link
    st.session_state.pop(CONSENT_KEY, None)
    st.session_state.pop(ERROR_KEY, None)


def _start() -> None:
    session = current_session()
    link = st.session_state.get(LINK_KEY)
    if session is None or not isinstance(link, str):
        return
    try:
        url = start_reconnect(current_client(), link, landing_url())
    except DashboardError as exc:
        st.session_state[ERROR_KEY] = exc.sentence
        return
    st.session_state[CONSENT_KEY] = url


def render_link_use() -> bool:
    """The user's side of a reconnect link on the landing page; False when there is none."""
    link = st.session_state.get(LINK_KEY)
    if not isinstance(link, str):
        return False
    st.title("Reconnect")
    if current_session() is None:
        st.info("Sign in as the account this link was made for, then open the link again.")
        st.page_link(page(SIGN_IN), label="Sign in to the dashboard", icon=":material/login:")
        return True
    failed = st.session_state.get(ERROR_KEY)
    consent = st.session_state.get(CONSENT_KEY)
    if isinstance(failed, str):
        st.error(failed, icon=":material/link_off:")
    elif isinstance(consent, str):
        st.success("The reconnect is ready: give your consent at the provider.")
        st.link_button(
            "Open the consent page", consent, type="primary", icon=":material/open_in_new:"
        )
        st.caption("After the consent this page's new tab shows the outcome.")
    else:
        st.write(
            "Your administrator sent you this link to connect an app again. It works once, for"
            " your account only."
        )
        st.button("Reconnect", type="primary", key="reconnect__start", on_click=_start)
    return True
