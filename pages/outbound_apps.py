"""Outbound apps (placeholder until the apps page lands)."""

from __future__ import annotations

import streamlit as st

from dashboard.gates import require_session

require_session()
st.title("Outbound apps")
st.write("The outbound apps you can connect, with their default scopes, will be listed here.")
