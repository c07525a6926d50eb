"""The embedded broker: a wire-compatible implementation of the Descope API the dashboard uses.

Imports run one way (``tests/unit/test_house.py`` walks them and fails on a cycle or an upward
import), from the top:

- shell: ``app`` (the FastAPI factory: routers, middleware), ``cli`` (the ``outbound`` command),
  ``seed``/``bulk_store`` (demo data), ``key_rotation``, ``mcp_server`` (talks HTTP to the broker);
- routes and services: ``identity``, ``outbound``, ``agents`` (``*_routes`` modules call the
  services beside them; a service never imports a route module);
- ``lifecycle``: the token lifecycle (vault, refresh engine, leases, scheduler, events, webhooks);
- ``providers``: the provider edge (OAuth client, URL policy, catalog, app registration, quirks);
- ``context``: the per-process ``Broker`` runtime, ``broker_of`` and the ``DbSession`` dependency;
- ``project``: the local project's credentials, signing keys and mail server;
- foundation: ``store`` (tables, engine, migrations; imports nothing else of the broker),
  ``errors``, ``crypto``, ``config``, ``logs``, ``edge``, ``strict``.

``demo_provider`` is a program of its own (the Acme Calendar OAuth server) and imports nothing of
the broker around it.
"""
