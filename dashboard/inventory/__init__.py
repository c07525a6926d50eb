"""The token inventory across users and what the Managed tokens page computes, free of Streamlit.

``collect`` gathers it (the broker's bulk extension in ``bulk``, else the fan-out over Descope's
public API in ``fanout``, both run by ``scan``); ``records`` is what it holds; ``cache`` keeps it
per target and query for every session; ``page`` is one server-side page with its KPIs; ``views``
computes what the tokens page shows (filters, KPIs, rows, matrix). Of one token: ``status`` (from
Descope's standard fields, so cloud and broker read alike), ``inspection`` (its JWT header and
claims) and ``trial`` ("Try the token" against the provider's API).
"""
