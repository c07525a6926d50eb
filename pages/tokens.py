"""Managed tokens (placeholder until the tokens page lands)."""

from __future__ import annotations

import streamlit as st

from dashboard.gates import require_admin, require_session

require_session()
st.title("Managed tokens")
view = st.radio("Show", ["My connections", "All users"], horizontal=True, key="tokens__view")
if view == "All users":
    require_admin()
    st.write("Tokens across all users (admin view) will be listed here.")
else:
    st.write("Your connected accounts and their token status will be listed here.")
