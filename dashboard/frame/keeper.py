"""Keeping the session: restore from the cookie, renew ahead of expiry and after a 401, sign out.

One ``run_every`` fragment in the entrypoint's sidebar renews the session (a single timer,
streamlit.md §4 #11); it also shows who is signed in, the target and when the session renews.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from dashboard.descope import auth
from dashboard.descope.errors import DashboardError, SessionExpired, Unauthorized
from dashboard.descope.models import AuthResult
from dashboard.descope.session import (
    Session,
    call_refreshing,
    open_session,
    refresh_session,
    restore_session,
)
from dashboard.frame.navigation import SIGN_IN, page
from dashboard.frame.plain_text import literal
from dashboard.frame.remember import COOKIE_NAME, HANDOFFS, browser_script
from dashboard.frame.state import current_session, drop_session, flash, keep_session, now
from dashboard.target import current_target

T = TypeVar("T")
KEEPER_INTERVAL = "20s"
RESTORE_TRIED_KEY = "keeper__restore_tried"
COOKIE_PENDING_KEY = "keeper__cookie_nonce"

log = logging.getLogger(__name__)


def _remember(session: Session | None) -> None:
    """Queue the cookie update for the browser: persist this session's refresh JWT, or forget."""
    if session is None:
        nonce = HANDOFFS.issue("forget")
    else:
        max_age = max(60, int(session.expires_at - now()) + 28 * 24 * 3600)
        nonce = HANDOFFS.issue("persist", session.refresh_jwt, max_age_s=max_age)
    st.session_state[COOKIE_PENDING_KEY] = nonce


def sync_cookie() -> None:
    """Hand a pending cookie update to the browser (re-sent each run until the route takes it)."""
    nonce = st.session_state.get(COOKIE_PENDING_KEY)
    if not isinstance(nonce, str):
        return
    if not HANDOFFS.is_pending(nonce):
        st.session_state.pop(COOKIE_PENDING_KEY, None)
        return
    st.html(browser_script(nonce), unsafe_allow_javascript=True)


def start_session(result: AuthResult) -> Session:
    """Verify a sign-in answer, keep it in this tab and remember it in the browser."""
    target = current_target()
    session = open_session(target.keys, result, now=now())
    keep_session(session)
    _remember(session)
    return session


def restore_from_cookie() -> None:
    """Once per tab: sign in again from the remembered refresh JWT, if there is one."""
    if st.session_state.get(RESTORE_TRIED_KEY):
        return
    st.session_state[RESTORE_TRIED_KEY] = True
    token = st.context.cookies.get(COOKIE_NAME)
    if not token or current_session() is not None:
        return
    target = current_target()
    try:
        keep_session(restore_session(target.transport, target.keys, token, now=now()))
    except (SessionExpired, Unauthorized):
        _remember(None)
    except DashboardError as exc:
        flash(exc.sentence, icon=":material/error:")


def renew() -> Session:
    """Refresh the tab's session now and keep the new one."""
    session = current_session()
    if session is None:
        raise SessionExpired()
    target = current_target()
    fresh = refresh_session(target.transport, target.keys, session, now=now())
    keep_session(fresh)
    if fresh.refresh_jwt != session.refresh_jwt:
        _remember(fresh)
    return fresh


def with_session(call: Callable[[Session], T]) -> T:
    """Run ``call`` with the tab's session; after a 401, renew once and run it again."""
    session = current_session()
    if session is None:
        raise SessionExpired()
    return call_refreshing(session, call, lambda _: renew())


def sign_out() -> None:
    """Log the session out at the target, forget it here and in the browser."""
    session = current_session()
    drop_session()
    _remember(None)
    if session is not None:
        try:
            auth.logout(current_target().transport, session.refresh_jwt.reveal())
        except DashboardError as exc:
            log.info("logout answered %s", type(exc).__name__)


def _minutes(seconds: float) -> str:
    if seconds < 60:
        return "in under a minute"
    return f"in {round(seconds / 60)} min"


@st.fragment(run_every=KEEPER_INTERVAL)
def session_keeper() -> None:
    """Sidebar block: renew ahead of expiry; show who, where, when it renews; sign out."""
    session = current_session()
    if session is None:
        return
    if session.needs_refresh(now()):
        try:
            session = renew()
        except SessionExpired:
            drop_session()
            _remember(None)
            flash(SessionExpired.sentence, icon=":material/hourglass_empty:")
            st.switch_page(page(SIGN_IN))
        except DashboardError as exc:
            st.caption(f":material/warning: {exc.sentence}")
    st.markdown(f"**{literal(session.user.display_name)}**")  # a name is text, never markup
    st.caption(f"Target: {current_target().settings.target_label}")
    st.caption(f"Session renews {_minutes(session.renews_at() - now())}")
    if st.button("Sign out", key="keeper__sign_out", icon=":material/logout:"):
        sign_out()
        flash("You are signed out.", icon=":material/waving_hand:")
        st.switch_page(page(SIGN_IN))
