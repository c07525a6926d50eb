"""The dashboard's keys in ``st.session_state`` (one per browser tab) and the flash message.

Auth state is one typed ``Session`` under ``SESSION_KEY``, replaced whole on refresh. Toasts
raised before ``st.switch_page``/``st.rerun`` are lost (streamlit.md §4 #6), so messages for
the next run go through ``flash`` and the entrypoint shows them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import cast

import streamlit as st

from dashboard.descope import (
    Session,
)

SESSION_KEY = "session"
FLASH_KEY = "flash"
# Tests put a ``() -> float`` here to move the keeper's clock (AppTest has no timers).
CLOCK_KEY = "clock"
CURRENT_PAGE_KEY = "current_page"
# The access token revealed on the tokens page, as (token id, view, note); never outlives its page.
REVEALED_KEY = "tokens__revealed"


def enter_page(url_path: str) -> None:
    """Note the page this run shows; leaving a page hides any secret revealed on it."""
    if st.session_state.get(CURRENT_PAGE_KEY) != url_path:
        st.session_state.pop(REVEALED_KEY, None)
    st.session_state[CURRENT_PAGE_KEY] = url_path


def now() -> float:
    """Unix seconds from the injected clock, or the real one."""
    clock = st.session_state.get(CLOCK_KEY)
    if callable(clock):
        return float(cast(Callable[[], float], clock)())
    return time.time()


def current_session() -> Session | None:
    """The signed-in Session of this tab, if any."""
    session = st.session_state.get(SESSION_KEY)
    return session if isinstance(session, Session) else None


def keep_session(session: Session) -> None:
    """Store (or replace) the tab's Session."""
    st.session_state[SESSION_KEY] = session


def drop_session() -> None:
    """Forget the tab's Session."""
    st.session_state.pop(SESSION_KEY, None)


def flash(message: str, icon: str = ":material/info:") -> None:
    """Show ``message`` as a toast on the next run (survives switch_page and rerun)."""
    st.session_state[FLASH_KEY] = (message, icon)


def show_flash() -> None:
    """Show and clear the pending flash message."""
    pending = st.session_state.pop(FLASH_KEY, None)
    if pending:
        message, icon = pending
        st.toast(message, icon=icon)
