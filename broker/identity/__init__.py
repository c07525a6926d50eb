"""Identity: who is calling and who the users are.

- ``auth``: the bearer (``pid[:jwt][:key]``), session and management-key checks, as FastAPI
  dependencies (``ManagementAuth``, ``RefreshUser``…) every area's routes use;
- services: ``users``, ``user_admin`` (the management API's changes to users), ``user_search``,
  ``tenants``, ``sessions`` (JWT pairs, logout), ``sign_in_flows`` (password and email-code
  sign-up/in), ``otp``, ``passwords``, ``throttle``; wire models in ``wire``;
- routes: ``auth_routes``, ``session_routes``, ``mgmt_routes``, ``tenant_routes``: a handler takes
  the request's ``DbSession`` and calls a service, or hands the Broker to a flow that runs
  transactions of its own (sign-in); handlers run no queries.

May import ``context``, ``project``, ``store`` and the foundation modules; never ``outbound``,
``agents``, ``lifecycle`` or ``providers``.
"""
