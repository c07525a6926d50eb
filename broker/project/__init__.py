"""The local project: what ``broker.context`` holds for every area.

``credentials`` (the project id, management keys kept as digests, ids, the local env file),
``signing`` (the session-signing RSA keys and JWKS), ``mail`` (the SMTP server for email codes).
May import ``store`` and the foundation modules only.
"""
