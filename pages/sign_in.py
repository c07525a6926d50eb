"""Sign in: password, email code or a new account."""

from __future__ import annotations

import streamlit as st

from dashboard.frame.navigation import HOME, page
from dashboard.frame.state import current_session
from dashboard.ui.sign_in import render_sign_in
from dashboard.ui.welcome import welcome_on_sign_in

if current_session() is not None:
    st.switch_page(page(HOME))
st.title("Sign in")
welcome_on_sign_in()
render_sign_in()
