"""Streamlit rendering shared by pages (the only dashboard code besides pages that draws)."""
