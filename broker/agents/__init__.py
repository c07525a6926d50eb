"""Agents: Descope-style access keys, the provider proxy and the agent-call audit.

Services (``access_keys``, ``proxy``, ``connections``, ``calls``, ``api_bases``) and their routes
(``*_routes``). May import ``identity`` and ``outbound`` services, ``lifecycle``, ``providers``,
``context``, ``project``, ``store`` and the foundation modules; never ``app`` or ``cli``.
"""
