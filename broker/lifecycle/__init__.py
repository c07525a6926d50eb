"""The token lifecycle, in one place: from a stored grant to a refreshed or dead token.

- ``vault``: sealing tokens at rest, statuses, the wire shape, revoke-and-delete;
- ``refresh``: the refresh engine (``refresh_token`` is its one entry point), with ``flight``
  (single flight per process), ``lease`` (one refresher across workers and machines),
  ``outcomes`` (classifying a provider's answer), ``transitions`` (storing success or failure);
- ``scheduler``: refreshes ahead of expiry in the background; ``events``, ``webhooks``,
  ``metrics`` report what happened; ``settings``: the lifecycle's settings.

May import ``providers``, ``context``, ``project``, ``store`` and the foundation modules; never
``outbound``, ``identity`` or ``agents`` (their routes and services call in here).
"""
