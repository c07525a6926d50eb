"""The provider edge: everything that talks to or describes an OAuth provider.

``oauth_client`` (token, refresh and revocation requests through Authlib), ``url_policy`` (which
URLs the broker may call or redirect to; the guarded HTTP client), ``catalog`` with
``providers.yaml`` (provider templates), ``quirks`` (per-provider deviations), ``registration``
(an app as the OAuth flow sees it: its row found, client secret unsealed, template merged).

May import ``context``, ``store`` and the foundation modules; never ``lifecycle``, ``outbound``,
``identity`` or ``agents``.
"""
