"""Reconnect links: made by an admin for a dead token, used once by its own user, over real HTTP."""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from sqlalchemy import update

from broker.store.outbound import ManagedTokenRow, ReconnectLinkRow
from tests.support.identity import SignedInUser, sign_in_new_user
from tests.support.outbound import (
    LANDING,
    connect,
    consent,
    create_demo_app,
    fetch_latest,
    land,
)
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker


class DeadToken:
    """A user's connection whose grant the provider refused on refresh (``needs_reauth``)."""

    def __init__(self, live: LiveBroker, provider: LiveProvider) -> None:
        self.live = live
        self.app_id = f"acme-{secrets.token_hex(4)}"
        create_demo_app(live, provider, self.app_id)
        self.user = sign_in_new_user(live)
        self.token_id = connect(live, self.user, self.app_id, ["profile", "calendar.read"])[
            "tokenId"
        ]
        provider.set_faults(refresh_error={"value": "invalid_grant", "remaining": 1})
        with live.broker.db.session() as s:
            s.execute(
                update(ManagedTokenRow)
                .where(ManagedTokenRow.id == self.token_id)
                .values(access_token_expiry=int(time.time()) - 5)
            )
        assert fetch_latest(live, self.app_id, self.user.user_id).status_code == 404

    def make_link(self) -> httpx.Response:
        """The admin's call."""
        return httpx.post(
            f"{self.live.url}/v1/x/mgmt/outbound/reconnect/link",
            headers=self.live.mgmt_headers(),
            json={"tokenId": self.token_id},
        )

    def use(self, link: str, user: SignedInUser) -> httpx.Response:
        """The user's call from the landing page."""
        return httpx.post(
            f"{self.live.url}/v1/x/outbound/oauth/reconnect",
            headers=self.live.user_headers(user.refresh_jwt),
            json={"link": link, "redirectUrl": LANDING},
        )

    def events(self) -> list[dict[str, Any]]:
        """The token's lifecycle events."""
        answer = httpx.get(
            f"{self.live.url}/v1/x/events",
            headers=self.live.mgmt_headers(),
            params={"tokenId": self.token_id},
        )
        events: list[dict[str, Any]] = answer.json()["events"]
        return events


@pytest.fixture
def dead(live_broker: LiveBroker, provider: LiveProvider) -> DeadToken:
    """A fresh dead token on the module's broker."""
    return DeadToken(live_broker, provider)


def test_the_user_reconnects_with_the_link_and_the_old_token_is_replaced(dead: DeadToken) -> None:
    made = dead.make_link()
    assert made.status_code == 200, made.text
    link = made.json()
    assert link["tokenId"] == dead.token_id and link["userId"] == dead.user.user_id
    assert link["scopes"] == ["profile", "calendar.read"]
    assert int(link["expiresAt"]) > time.time() + 3600

    started = dead.use(link["link"], dead.user)
    assert started.status_code == 200, started.text
    asked = dict(parse_qsl(urlsplit(started.json()["url"]).query))
    assert asked["scope"] == "profile calendar.read"
    outcome = land(
        dead.live, httpx.get(consent(started.json()["url"])).headers["location"], dead.user
    )
    assert outcome["outbound"] == "connected" and outcome["tokenId"] == dead.token_id

    token = fetch_latest(dead.live, dead.app_id, dead.user.user_id).json()["token"]
    assert token["id"] == dead.token_id and token["status"] == "active"
    reconnected = [e for e in dead.events() if e["kind"] == "reconnected"]
    assert reconnected[-1]["detail"]["via"] == "reconnect_link"

    reused = dead.use(link["link"], dead.user)
    assert reused.status_code == 400 and reused.json()["errorCode"] == "E111511"


def test_a_link_opened_by_another_account_does_nothing_and_stays_usable(
    dead: DeadToken,
) -> None:
    link = dead.make_link().json()["link"]
    stranger = sign_in_new_user(dead.live)
    refused = dead.use(link, stranger)
    assert refused.status_code == 403 and refused.json()["errorCode"] == "E111513"
    assert dead.use(link, dead.user).status_code == 200


def test_an_expired_or_made_up_link_is_refused(dead: DeadToken) -> None:
    link = dead.make_link().json()["link"]
    with dead.live.broker.db.session() as s:
        s.execute(update(ReconnectLinkRow).values(expires_at=0))
    assert dead.use(link, dead.user).json()["errorCode"] == "E111512"
    assert dead.use(secrets.token_urlsafe(32), dead.user).json()["errorCode"] == "E111510"


def test_a_healthy_token_gets_no_link_and_a_user_cannot_make_one(
    live_broker: LiveBroker, provider: LiveProvider
) -> None:
    app_id = f"acme-{secrets.token_hex(4)}"
    create_demo_app(live_broker, provider, app_id)
    user = sign_in_new_user(live_broker)
    token_id = connect(live_broker, user, app_id)["tokenId"]
    url = f"{live_broker.url}/v1/x/mgmt/outbound/reconnect/link"
    healthy = httpx.post(url, headers=live_broker.mgmt_headers(), json={"tokenId": token_id})
    assert healthy.status_code == 400
    as_user = httpx.post(
        url, headers=live_broker.user_headers(user.refresh_jwt), json={"tokenId": token_id}
    )
    assert as_user.status_code == 401


def test_a_reconnect_to_google_asks_for_the_earlier_grants_too(
    live_broker: LiveBroker,
) -> None:
    created = httpx.post(
        f"{live_broker.url}/v1/mgmt/outbound/app/create/bytemplate",
        headers=live_broker.mgmt_headers(),
        json={"templateId": "google-calendar", "clientId": "g-client", "clientSecret": "g-secret"},
    ).json()["app"]
    user = sign_in_new_user(live_broker)
    upload = httpx.post(
        f"{live_broker.url}/v1/mgmt/outbound/app/user/oauthtoken/upload",
        headers=live_broker.mgmt_headers(),
        json={
            "appId": created["id"],
            "userId": user.user_id,
            "accessToken": "ya29.dead",
            "refreshToken": "1//dead",
            "scopes": ["openid", "https://www.googleapis.com/auth/calendar.events"],
        },
    )
    assert upload.status_code == 200, upload.text
    with live_broker.broker.db.session() as s:
        s.execute(
            update(ManagedTokenRow)
            .where(ManagedTokenRow.app_id == created["id"])
            .values(status="needs_reauth")
        )
        token_id = s.query(ManagedTokenRow.id).filter_by(app_id=created["id"]).scalar()
    link = httpx.post(
        f"{live_broker.url}/v1/x/mgmt/outbound/reconnect/link",
        headers=live_broker.mgmt_headers(),
        json={"tokenId": token_id},
    ).json()["link"]
    started = httpx.post(
        f"{live_broker.url}/v1/x/outbound/oauth/reconnect",
        headers=live_broker.user_headers(user.refresh_jwt),
        json={"link": link, "redirectUrl": LANDING},
    )
    asked = dict(parse_qsl(urlsplit(started.json()["url"]).query))
    assert asked["include_granted_scopes"] == "true"
    assert asked["scope"] == "openid https://www.googleapis.com/auth/calendar.events"
