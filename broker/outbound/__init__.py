"""Outbound apps: managing apps, connecting users, handing tokens out.

- services: ``apps`` (create/update/delete apps), ``connect``/``connect_flows``/``connect_checks``
  /``connect_settings``/``flows``/``reconnect`` (the OAuth connect flow and reconnect links),
  ``tokens`` (fetch, connection status, disconnect), ``uploads`` (migrating tokens in),
  ``inventory_query``; wire models in ``wire``;
- routes: ``*_routes`` (Descope's outbound and management endpoints, the lifecycle's events and
  metrics), and ``fast_fetch``, the lean ASGI path answering a fresh token before FastAPI.

Handlers run no queries: they hand the Broker to these services, which open short sessions of
their own, because many call a provider between two transactions (a request's session is never
held across a provider call) or read on the event loop's own connection (the fetch).

May import ``identity`` services (``auth`` for callers), ``lifecycle``, ``providers``,
``context``, ``project``, ``store`` and the foundation modules; never ``agents``, ``app``, ``cli``.
"""
