"""Outbound apps: managing apps, connecting users, handing tokens out.

- services: ``apps`` (create/update/delete apps), ``connect``/``connect_flows``/``connect_checks``
  /``connect_settings``/``flows``/``reconnect`` (the OAuth connect flow and reconnect links),
  ``tokens`` (fetch, connection status, disconnect), ``uploads`` (migrating tokens in),
  ``inventory_query``; wire models in ``wire``;
- routes: ``*_routes`` (Descope's outbound and management endpoints, the lifecycle's events and
  metrics), and ``fast_fetch``, the lean ASGI path answering a fresh token before FastAPI.

May import ``identity`` services (``auth`` for callers), ``lifecycle``, ``providers``,
``context``, ``project``, ``store`` and the foundation modules; never ``agents``, ``app``, ``cli``.
"""
