"""Agents in tests: a user with an access key, and calls to the broker's proxy as that user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.identity import SignedInUser, sign_in_new_user
from tests.support.servers import LiveBroker


@dataclass(frozen=True)
class KeyHolder:
    """A user, an access key bound to them, and the session JWT the key was exchanged for."""

    user: SignedInUser
    key_id: str
    access_key: str
    session_jwt: str


def user_with_key(
    live: LiveBroker, *, roles: list[str] | None = None, app_ids: list[str] | None = None
) -> KeyHolder:
    """A new user and an access key of theirs (created and exchanged over HTTP)."""
    user = sign_in_new_user(live, roles=roles)
    body: dict[str, Any] = {"name": "agent", "userId": user.user_id}
    if app_ids is not None:
        body["appIds"] = app_ids
    created = httpx.post(
        f"{live.url}/v1/mgmt/accesskey/create", headers=live.mgmt_headers(), json=body
    )
    created.raise_for_status()
    cleartext = created.json()["cleartext"]
    exchanged = httpx.post(
        f"{live.url}/v1/auth/accesskey/exchange",
        headers={"Authorization": f"Bearer {live.project_id}:{cleartext}"},
        json={},
    )
    exchanged.raise_for_status()
    return KeyHolder(user, created.json()["key"]["id"], cleartext, exchanged.json()["sessionJwt"])


def proxy(live: LiveBroker, jwt: str, app_id: str, path: str, **fields: Any) -> httpx.Response:
    """POST the proxy endpoint as the holder of ``jwt`` (method GET unless given)."""
    body = {"appId": app_id, "method": fields.pop("method", "GET"), "path": path, **fields}
    return httpx.post(
        f"{live.url}/v1/x/outbound/proxy", headers=live.user_headers(jwt), json=body, timeout=30
    )
