"""Keeping the session: the tab's client, restore from the cookie, renew ahead of expiry, sign out.

``current_client()`` is this tab's DescopeClient: it renews the session after a 401 itself and
keeps it through ``TabSessions`` (the tab's state and, when the refresh JWT rotates, the cookie).
One ``run_every`` fragment in the entrypoint's sidebar renews the session (a single timer,
streamlit.md §4 #11); it also shows who is signed in, the target and when the session renews.
"""

from __future__ import annotations

import functools
import logging

import streamlit as st

from dashboard.descope import (
    AuthResult,
    DashboardError,
    DescopeClient,
    KeySet,
    Secret,
    Session,
    SessionExpired,
    Transport,
    Unauthorized,
    shared_transport,
)
from dashboard.frame.navigation import SIGN_IN, page
from dashboard.frame.plain_text import literal
from dashboard.frame.remember import COOKIE_NAME, HANDOFFS, browser_script
from dashboard.frame.state import current_session, drop_session, flash, keep_session, now
from dashboard.settings import Settings, get_settings

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


class TabSessions:
    """The client's SessionStore: the tab's ``st.session_state``, and the browser's cookie when a
    renewal rotates the refresh JWT."""

    def get(self) -> Session | None:
        """The tab's Session."""
        return current_session()

    def put(self, session: Session) -> None:
        """Keep ``session``; remember it in the browser when it replaces another refresh JWT."""
        before = current_session()
        keep_session(session)
        if before is not None and before.refresh_jwt != session.refresh_jwt:
            _remember(session)


@functools.cache
def _shared(settings: Settings) -> tuple[Transport, KeySet]:
    """The process-wide pooled transport and key set of ``settings`` (nothing per user)."""
    transport = shared_transport(settings.base_url, settings.project_id, settings.management_key)
    return transport, KeySet(transport)


def current_client() -> DescopeClient:
    """This tab's client: the process's pooled transport and keys, the tab's session."""
    transport, keys = _shared(get_settings())
    return DescopeClient(transport, keys, TabSessions(), clock=now)


def start_session(result: AuthResult) -> Session:
    """Verify a sign-in answer, keep it in this tab and remember it in the browser."""
    drop_session()
    session = current_client().start(result)
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
    try:
        current_client().restore(Secret(token))
    except (SessionExpired, Unauthorized):
        _remember(None)
    except DashboardError as exc:
        flash(exc.sentence, icon=":material/error:")


def sign_out() -> None:
    """Log the session out at the target, forget it here and in the browser."""
    try:
        if current_session() is not None:
            current_client().sign_out()
    except DashboardError as exc:
        log.info("logout answered %s", type(exc).__name__)
    finally:
        drop_session()
        _remember(None)


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
            session = current_client().renew()
        except SessionExpired:
            drop_session()
            _remember(None)
            flash(SessionExpired.sentence, icon=":material/hourglass_empty:")
            st.switch_page(page(SIGN_IN))
        except DashboardError as exc:
            st.caption(f":material/warning: {exc.sentence}")
    st.markdown(f"**{literal(session.user.display_name)}**")  # a name is text, never markup
    st.caption(f"Target: {get_settings().target_label}")
    st.caption(f"Session renews {_minutes(session.renews_at() - now())}")
    if st.button("Sign out", key="keeper__sign_out", icon=":material/logout:"):
        sign_out()
        flash("You are signed out.", icon=":material/waving_hand:")
        st.switch_page(page(SIGN_IN))
