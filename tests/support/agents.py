"""Agents in tests: a user with an access key, calls to the broker's proxy as that user, and
the user completing a connect link an agent was given."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.identity import SignedInUser, sign_in_new_user
from tests.support.outbound import consent, create_demo_app, land
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker


@dataclass(frozen=True)
class IssuedKey:
    """An access key and the session JWT it was exchanged for."""

    key_id: str
    access_key: str
    session_jwt: str


@dataclass(frozen=True)
class KeyHolder(IssuedKey):
    """A signed-in user and an access key bound to them."""

    user: SignedInUser


def issue_key(live: LiveBroker, user_id: str, app_ids: list[str] | None = None) -> IssuedKey:
    """Create an access key for ``user_id`` and exchange it, over HTTP."""
    body: dict[str, Any] = {"name": "agent", "userId": user_id}
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
    return IssuedKey(created.json()["key"]["id"], cleartext, exchanged.json()["sessionJwt"])


def user_with_key(
    live: LiveBroker, *, roles: list[str] | None = None, app_ids: list[str] | None = None
) -> KeyHolder:
    """A new signed-in user and an access key of theirs."""
    user = sign_in_new_user(live, roles=roles)
    issued = issue_key(live, user.user_id, app_ids)
    return KeyHolder(issued.key_id, issued.access_key, issued.session_jwt, user)


def app_and_holder(live: LiveBroker, provider: LiveProvider, **key: Any) -> tuple[str, KeyHolder]:
    """A fresh demo app (registered at ``provider``) and a new user with an access key."""
    app_id = f"cal-{secrets.token_hex(3)}"
    create_demo_app(live, provider, app_id)
    return app_id, user_with_key(live, **key)


def create_by_template(live: LiveBroker, template_id: str, app_id: str, **fields: Any) -> None:
    """Create an app from a catalog template (named after its id, so names never collide)."""
    body = {"templateId": template_id, "id": app_id, "clientId": "c", **fields}
    body["overrides"] = {"name": f"{template_id} {app_id}"}
    httpx.post(
        f"{live.url}/v1/mgmt/outbound/app/create/bytemplate", headers=live.mgmt_headers(), json=body
    ).raise_for_status()


def user_completes(live: LiveBroker, connect_url: str, user: SignedInUser) -> dict[str, str]:
    """``user`` opens the link an agent was given, approves (auto-approving provider) and lands
    signed in as themself (the landing page's confirmation, which the user verifier needs);
    answers the outcome the landing page learns."""
    landed = httpx.get(consent(connect_url))
    assert landed.status_code == 302, landed.text
    return land(live, landed.headers["location"], user)


def proxy(live: LiveBroker, jwt: str, app_id: str, path: str, **fields: Any) -> httpx.Response:
    """POST the proxy endpoint as the holder of ``jwt`` (method GET unless given)."""
    body = {"appId": app_id, "method": fields.pop("method", "GET"), "path": path, **fields}
    return httpx.post(
        f"{live.url}/v1/x/outbound/proxy", headers=live.user_headers(jwt), json=body, timeout=30
    )
