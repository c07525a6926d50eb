"""A small, known population of connections for token-inventory tests, seeded over real HTTP.

Two demo-provider apps and one tenant; healthy tokens come from the real connect flow, the
unhealthy ones from the upload endpoint (reference §3.5). The provider is left failing every
refresh with a 503 (a forced refresh in a test switches it back with ``reset_faults``)::

    ada    acme-cal active, acme-mail active                 (connect flow)
    bob    acme-cal active (connect); acme-mail expired, no refresh token (upload)
    cyd    acme-cal expired, and its refresh fails at the provider (503) → refresh failed
    dee    acme-mail valid for 2 h, no refresh token → expiring soon
    eve    nothing
    Globex (tenant) acme-cal valid for 48 h, no refresh token
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from dashboard.inventory.records import Connection
from dashboard.inventory.status import TokenStatus, classify
from tests.support.identity import SignedInUser, sign_in_new_user
from tests.support.outbound import connect, create_demo_app
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker

CAL, MAIL = "acme-cal", "acme-mail"
# What the population above is, by (user or "tenant", app), as the dashboard classifies it.
SEEDED_STATUSES = {
    ("ada", CAL): TokenStatus.ACTIVE,
    ("ada", MAIL): TokenStatus.ACTIVE,
    ("bob", CAL): TokenStatus.ACTIVE,
    ("bob", MAIL): TokenStatus.EXPIRED,
    ("cyd", CAL): TokenStatus.REFRESH_FAILED,
    ("dee", MAIL): TokenStatus.EXPIRING_SOON,
    ("tenant", CAL): TokenStatus.NO_REFRESH_TOKEN,
}
UPLOADED_ACCESS = "uploaded-access-token-0123456789abcdef"


@dataclass
class SeededTokens:
    """Who was seeded: user ids by short name, the tenant id, and the apps."""

    users: dict[str, SignedInUser]
    tenant_id: str
    apps: tuple[str, str] = (CAL, MAIL)

    def user_id(self, name: str) -> str:
        """The user id of a seeded user (``ada``…``eve``)."""
        return self.users[name].user_id

    def statuses(self, connections: Iterable[Connection]) -> dict[tuple[str, str], TokenStatus]:
        """Each connection's status now, keyed like ``SEEDED_STATUSES``."""
        names = {u.user_id: name for name, u in self.users.items()}
        now = datetime.now(UTC)
        return {
            (names.get(c.token.user_id, "tenant"), c.token.app_id): classify(c.token, now)
            for c in connections
        }


def _post(live: LiveBroker, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{live.url}{path}", headers=live.mgmt_headers(), json=body)
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def upload_user_token(live: LiveBroker, app_id: str, user_id: str, **fields: Any) -> None:
    """Upload an OAuth token for a user (fields as on the wire: accessToken, refreshToken…)."""
    _post(
        live,
        "/v1/mgmt/outbound/app/user/oauthtoken/upload",
        {"appId": app_id, "userId": user_id, **fields},
    )


def seed_tokens(live: LiveBroker, provider: LiveProvider) -> SeededTokens:
    """Seed the population described in the module docstring."""
    provider.reset_faults()  # a provider shared with an earlier seed may still be failing
    for app_id in (CAL, MAIL):
        create_demo_app(live, provider, app_id)
    users = {
        name: sign_in_new_user(live, f"{name}@example.test")
        for name in ("ada", "bob", "cyd", "dee", "eve")
    }
    tenant_id = str(_post(live, "/v1/mgmt/tenant/create", {"name": "Globex"})["id"])
    connect(live, users["ada"], CAL)
    connect(live, users["ada"], MAIL)
    connect(live, users["bob"], CAL)
    now = int(time.time())
    upload_user_token(
        live, MAIL, users["bob"].user_id, accessToken=UPLOADED_ACCESS, accessTokenExpiry=now - 60
    )
    upload_user_token(
        live,
        CAL,
        users["cyd"].user_id,
        accessToken=UPLOADED_ACCESS,
        accessTokenExpiry=now - 60,
        refreshToken="cyd-refresh-token-0123456789",
    )
    upload_user_token(
        live,
        MAIL,
        users["dee"].user_id,
        accessToken=UPLOADED_ACCESS,
        accessTokenExpiry=now + 7200,
        scopes=["profile", "calendar.read"],
    )
    _post(
        live,
        "/v1/mgmt/outbound/app/tenant/oauthtoken/upload",
        {
            "appId": CAL,
            "tenantId": tenant_id,
            "accessToken": UPLOADED_ACCESS,
            "accessTokenExpiry": now + 48 * 3600,
        },
    )
    # From now on every refresh fails transiently; one fetch records it on cyd's token.
    provider.set_faults(token_status=503)
    response = httpx.post(
        f"{live.url}/v1/mgmt/outbound/app/user/token/latest",
        headers=live.mgmt_headers(),
        json={"appId": CAL, "userId": users["cyd"].user_id},
    )
    assert response.status_code == 502, response.text
    return SeededTokens(users=users, tenant_id=tenant_id)
