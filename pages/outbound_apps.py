"""Outbound apps: default scopes, connect links through the API, disconnect, and admin."""

from __future__ import annotations

import streamlit as st

from dashboard.frame.gates import require_session
from dashboard.ui.apps import render_outbound_apps

session = require_session()
st.title("Outbound apps")
render_outbound_apps(session)
