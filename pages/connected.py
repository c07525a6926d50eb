"""Landing page after an OAuth connect (placeholder until the apps page lands)."""

from __future__ import annotations

import streamlit as st

st.title("Connected")
st.write("The outcome of a connect will be shown here; you can close this tab.")
