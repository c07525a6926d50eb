"""The first-run banner: the three things a newcomer does first, one short sentence each.

Shown only against the embedded broker (``outbound up`` seeds the demo account and the demo app;
Descope cloud has its own users and none of that): on the sign-in page, and on the outbound apps
page while the demo app is listed and the person has no connection yet. "Hide" keeps it away
for the rest of the tab's session.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from dashboard.app_listing import AppListing
from dashboard.settings import get_settings

DISMISSED_KEY = "welcome__dismissed"
# The demo app ``outbound up`` seeds (broker/seed.py; the dashboard never imports the broker).
DEMO_APP_ID = "acme-calendar"
SIGN_IN_STEP = "Sign in with the demo account printed by `make run`."
CONNECT_STEP = "Connect Acme Calendar below."
CONNECT_LATER_STEP = "Connect Acme Calendar on the Outbound apps page."
TOKENS_STEP = "Then open Managed tokens to see the token."


def _dismiss() -> None:
    st.session_state[DISMISSED_KEY] = True


def _banner(steps: Sequence[str], done: int) -> None:
    """The steps with the first ``done`` ticked and the next one in bold, and a Hide button."""
    with st.container(border=True, key="welcome__banner"):
        with st.container(horizontal=True, vertical_alignment="center"):
            st.markdown("**:material/waving_hand: New here? Three steps to your first token.**")
            st.space("stretch")
            st.button(
                "Hide",
                key="welcome__dismiss",
                icon=":material/close:",
                type="tertiary",
                on_click=_dismiss,
            )
        lines = []
        for n, step in enumerate(steps):
            if n < done:
                lines.append(f":material/check_circle: :gray[{step}]")
            elif n == done:
                lines.append(f":material/arrow_forward: **{step}**")
            else:
                lines.append(f":material/radio_button_unchecked: {step}")
        st.markdown("  \n".join(lines))


def _wanted() -> bool:
    return not st.session_state.get(DISMISSED_KEY) and get_settings().is_local


def welcome_on_sign_in() -> None:
    """The banner on the sign-in page (embedded broker only)."""
    if _wanted():
        _banner((SIGN_IN_STEP, CONNECT_LATER_STEP, TOKENS_STEP), done=0)


def welcome_on_apps(listings: Sequence[AppListing]) -> None:
    """The banner on the apps page while the demo app is there and nothing is connected yet."""
    has_demo = any(item.app.id == DEMO_APP_ID for item in listings)
    if has_demo and not any(item.connected for item in listings) and _wanted():
        _banner((SIGN_IN_STEP, CONNECT_STEP, TOKENS_STEP), done=1)
