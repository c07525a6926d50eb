"""The Outbound Dashboard: a Streamlit console that speaks Descope's wire format over HTTP."""
