"""Demo mode on screen: the notice on every page and the developer outbox on the sign-in page.

The developer outbox shows the codes the demo broker kept instead of emailing them, to whoever
types the management key — never to whoever typed an address (docs/security.md, "Email codes
and demo mode"). The key is sent as the credential of that one call and not kept: the form
clears on submit.
"""

from __future__ import annotations

import time

import streamlit as st

from dashboard.descope import (
    ConfigurationError,
    DashboardError,
    DescopeClient,
    NotFound,
    Secret,
    Unauthorized,
    read_outbox,
)
from dashboard.frame.plain_text import literal
from dashboard.settings import get_settings

DEMO_NOTICE = (
    ":orange-badge[:material/science: Demo mode] No email is sent: sign-in codes wait in the "
    "developer outbox on the sign-in page, for whoever holds the management key."
)
OUTBOX_TITLE = "Developer outbox (demo mode)"
OUTBOX_HELP = (
    "The codes the demo broker would have emailed. It opens with the management key "
    "(OUTBOUND_MANAGEMENT_KEY in .outbound/local.env), which reads every account anyway; "
    "nobody else sees a code here."
)
WRONG_KEY = "That is not the management key of this broker."
NO_OUTBOX = "The broker is not in demo mode: codes go out by email."
SHOWN = 3


def demo_notice() -> None:
    """One line at the top of every page while the dashboard runs in demo mode."""
    try:
        on = get_settings().demo_mode
    except ConfigurationError:  # not set up: the page itself says what to do
        return
    if on:
        st.caption(DEMO_NOTICE)


def developer_outbox(client: DescopeClient) -> None:
    """The clearly labelled panel: a login id and the management key open its latest codes."""
    with st.expander(OUTBOX_TITLE, icon=":material/developer_mode:"):
        st.caption(OUTBOX_HELP)
        with st.form("demo__outbox_form", clear_on_submit=True, border=False):
            login_id = st.text_input("Login id", key="demo__outbox_login_id")
            key = st.text_input("Management key", type="password", key="demo__outbox_key")
            opened = st.form_submit_button("Show codes", key="demo__outbox_open")
        if opened:
            _show_codes(client, login_id.strip(), key.strip())


def _show_codes(client: DescopeClient, login_id: str, key: str) -> None:
    if not login_id or not key:
        st.error("Enter the login id and the management key.")
        return
    try:
        messages = read_outbox(client, login_id, Secret(key))
    except Unauthorized:
        st.error(WRONG_KEY, icon=":material/key_off:")
        return
    except NotFound:
        st.info(NO_OUTBOX)
        return
    except DashboardError as exc:
        st.error(exc.sentence, icon=":material/error:")
        return
    if not messages:
        st.caption(f"No code for {literal(login_id)} yet.")
    for message in messages[:SHOWN]:
        sent = time.strftime("%H:%M:%S", time.localtime(message.created_at or 0))
        st.caption(
            f"{literal(message.subject or 'Sign-in code')} · {literal(message.address)} · {sent}"
        )
        st.code(message.code, language=None)
