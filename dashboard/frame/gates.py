"""Page gates: who may see a page. Call one at the top of every page that needs it.

The entrypoint already hides gated pages from signed-out people; the gate is the second check
(defence in depth, streamlit.md §1.3) and the one that sends a deep link to sign in with ``next``.
"""

from __future__ import annotations

import streamlit as st

from dashboard.descope import (
    Session,
)
from dashboard.frame.navigation import SIGN_IN, page
from dashboard.frame.state import CURRENT_PAGE_KEY, current_session
from dashboard.settings import get_settings

# People who build with the connect flow see its advanced options (redirect, tenant, on behalf).
DEVELOPER_ROLES = ("outbound-developer",)
ADMIN_ONLY = "This view is for administrators only; you can see your own connections."


def require_session() -> Session:
    """The signed-in Session; otherwise go to sign in and come back here afterwards."""
    session = current_session()
    if session is None:
        here = st.session_state.get(CURRENT_PAGE_KEY)
        params = {"next": here} if isinstance(here, str) and here != SIGN_IN else {}
        st.switch_page(page(SIGN_IN), query_params=params)
    assert session is not None  # st.switch_page does not return
    return session


def is_admin(session: Session) -> bool:
    """Whether the session JWT carries one of the configured admin roles."""
    return session.has_any_role(get_settings().admin_roles)


def sees_advanced(session: Session) -> bool:
    """Whether the connect form offers redirect URL, tenant and on-behalf-of (admins, developers)."""
    return is_admin(session) or session.has_any_role(DEVELOPER_ROLES)


def require_admin() -> Session:
    """The signed-in Session of an admin; anyone else sees one sentence and the page stops."""
    session = require_session()
    if not is_admin(session):
        st.warning(ADMIN_ONLY, icon=":material/lock:")
        st.stop()
    return session
