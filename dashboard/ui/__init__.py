"""What each page draws: one module (or a few, split by concern) per page of ``pages/``.

``apps*`` for Outbound apps, ``tokens*`` for Managed tokens, ``agents``, ``sign_in``,
``welcome``, ``demo``; ``failures`` turns any error into one sentence. With ``frame/`` and the
entrypoint, the only dashboard code that calls ``st.*``; calls go through ``frame.keeper``'s
``current_client()``.
"""
