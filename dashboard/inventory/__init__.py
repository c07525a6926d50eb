"""The token inventory across users, free of Streamlit.

``collect`` gathers it (the broker's bulk extension in ``bulk``, else the fan-out over Descope's
public API in ``fanout``, both run by ``scan``); ``records`` is what it holds; ``cache`` keeps it
per target and query for every session; ``page`` is one server-side page with its KPIs; ``views``
computes what the tokens page shows (filters, KPIs, rows, matrix).
"""
