"""Bulk demo data written straight through the store: users and their catalog-app tokens.

``outbound seed`` (``seed.seed_bulk``) makes thousands of users and tokens for demos and
benchmarks. Through the management API that is one request per user and one ORM round per
token (≈65 a second on a busy 2-core machine: 100,000 tokens took half an hour). Here each
token is built exactly as the batch upload builds it (``vault.apply_grant``: sealed under its
row's context, expiry, scopes, next refresh time) and the rows go in with one multi-row insert
per chunk. No lifecycle event is recorded for these tokens (their history starts at their
first refresh); nothing else differs from uploaded ones.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert

from broker.context import Broker
from broker.crypto import Secret
from broker.lifecycle.status_names import TokenStatus
from broker.lifecycle.vault import apply_grant
from broker.project.credentials import new_id
from broker.providers.oauth_client import TokenGrant
from broker.providers.registration import find_app, resolve_app
from broker.store.identity import LoginId, User
from broker.store.outbound import ManagedTokenRow
from broker.store.owners import sort_key

CHUNK = 2000  # users per transaction


def _columns(row: ManagedTokenRow) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in ManagedTokenRow.__table__.columns}


def store_bulk(broker: Broker, *, prefix: str, users: int, app_ids: Sequence[str]) -> int:
    """``users`` users (``<prefix>-<n>@example.test``) each holding a token of every app in
    ``app_ids`` (valid for an hour, with a refresh token); answers how many tokens went in."""
    with broker.db.session() as s:
        apps = {a: resolve_app(broker, find_app(s, a)) for a in app_ids}
    stored = 0
    for start in range(0, users, CHUNK):
        now = int(time.time())
        people: list[dict[str, Any]] = []
        logins: list[dict[str, Any]] = []
        tokens: list[dict[str, Any]] = []
        for n in range(start, min(users, start + CHUNK)):
            user_id, login = new_id("U"), f"{prefix}-{n:06d}@example.test"
            name = f"Bulk user {n}"
            people.append(
                {"id": user_id, "name": name, "email": login, "created_time": now,
                 "modified_time": now}
            )  # fmt: skip
            logins.append({"login_id": login, "user_id": user_id, "position": 0})
            for app_id, app in apps.items():
                row = ManagedTokenRow(
                    id=new_id("OT"), app_id=app_id, user_id=user_id, tenant_id="",
                    external_identifier="", kind="oauth", version=1, created_at=float(now),
                    updated_at=float(now), scopes=["read"], requested_scopes=["read"],
                    granted_by="", token_sub="", status=TokenStatus.ACTIVE.value, failure_count=0,
                    last_refresh_error="", owner_sort=sort_key(name),
                )  # fmt: skip
                grant = TokenGrant(
                    access_token=Secret(secrets.token_urlsafe(24)),
                    token_type="Bearer",
                    expires_in=3600,
                    refresh_token=Secret(secrets.token_urlsafe(24)),
                    scope=app.join_scopes(["read"]),
                    id_token_sub="",
                )
                apply_grant(broker, row, app, grant, now)
                row.last_refresh_time = None
                tokens.append(_columns(row))
        with broker.db.engine.begin() as conn:
            conn.execute(insert(User), people)
            conn.execute(insert(LoginId), logins)
            conn.execute(insert(ManagedTokenRow), tokens)
        stored += len(tokens)
    return stored
