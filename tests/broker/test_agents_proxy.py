"""The provider proxy: calls reach the provider with the user's token, which never comes back."""

from __future__ import annotations

import secrets

import httpx

from dashboard.descope import Secret
from dashboard.descope.events import token_history
from dashboard.descope.transport import Transport
from tests.support.agents import app_and_holder, proxy, user_with_key
from tests.support.dashboard import client_of
from tests.support.outbound import connect, create_demo_app
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker


def _events(live: LiveBroker, user_id: str) -> list[dict[str, object]]:
    response = httpx.get(
        f"{live.url}/v1/x/events",
        headers=live.mgmt_headers(),
        params={"userId": user_id, "kind": "agent_call"},
    )
    response.raise_for_status()
    events: list[dict[str, object]] = response.json()["events"]
    return events


def first_token_id(live: LiveBroker, user_id: str) -> str:
    """The token id of the user's first agent call."""
    return str(_events(live, user_id)[0]["tokenId"])


def test_proxy_reaches_the_provider_with_the_users_token(
    live_broker: LiveBroker, provider: LiveProvider
) -> None:
    app_id, holder = app_and_holder(live_broker, provider)
    connect(live_broker, holder.user, app_id)
    before = provider.stats()["api_calls"]

    answer = proxy(live_broker, holder.session_jwt, app_id, "/events", agent="pytest")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == 200 and body["truncated"] is False
    assert body["json"]["items"] and body["url"].endswith("/api/events")
    assert provider.stats()["api_calls"] == before + 1

    token = httpx.post(
        f"{live_broker.url}/v1/mgmt/outbound/app/user/token/latest",
        headers=live_broker.mgmt_headers(),
        json={"appId": app_id, "userId": holder.user.user_id},
    ).json()["token"]["accessToken"]
    assert token and token not in answer.text
    me = proxy(live_broker, holder.session_jwt, app_id, "/me").json()
    assert me["json"]["id"]  # the provider's view of the user whose token was used

    # The token's history, as the dashboard reads it from this broker's answer.
    with Transport(
        live_broker.url, live_broker.project_id, Secret(live_broker.management_key)
    ) as transport:
        history = token_history(
            client_of(transport), first_token_id(live_broker, holder.user.user_id)
        )
    calls = [e for e in history or () if e.kind == "agent_call"]
    assert [c.outcome for c in calls] == ["ok", "ok"]
    assert "agent pytest" in calls[0].detail and "tool call_provider" in calls[0].detail

    [first, *_] = _events(live_broker, holder.user.user_id)
    assert first["appId"] == app_id and first["tokenId"]
    assert first["detail"] == {
        "agent": "pytest",
        "tool": "call_provider",
        "outcome": "ok",
        "status": 200,
        "method": "GET",
        "path": "/events",
    }


def test_missing_connection_is_a_typed_error_and_an_event(
    live_broker: LiveBroker, provider: LiveProvider
) -> None:
    app_id, holder = app_and_holder(live_broker, provider)
    answer = proxy(live_broker, holder.session_jwt, app_id, "/me")
    assert answer.status_code == 404 and answer.json()["errorCode"] == "E111504"
    [event] = _events(live_broker, holder.user.user_id)
    assert event["detail"]["outcome"] == "not_connected"  # type: ignore[index]


def test_a_key_scoped_to_some_apps_reaches_only_those(
    live_broker: LiveBroker, provider: LiveProvider
) -> None:
    allowed, other = (f"cal-{secrets.token_hex(3)}" for _ in range(2))
    for app_id in (allowed, other):
        create_demo_app(live_broker, provider, app_id)
    holder = user_with_key(live_broker, app_ids=[allowed])
    connect(live_broker, holder.user, other)
    refused = proxy(live_broker, holder.session_jwt, other, "/me")
    assert refused.status_code == 403 and other in refused.json()["errorMessage"]
    listed = httpx.get(
        f"{live_broker.url}/v1/x/outbound/connections",
        headers=live_broker.user_headers(holder.session_jwt),
    ).json()["connections"]
    assert [c["appId"] for c in listed] == [allowed]


def test_connections_list_has_status_scopes_and_expiry_but_no_token(
    live_broker: LiveBroker, provider: LiveProvider
) -> None:
    app_id, holder = app_and_holder(live_broker, provider)
    connect(live_broker, holder.user, app_id, scopes=["profile", "calendar.read"])
    listed = httpx.get(
        f"{live_broker.url}/v1/x/outbound/connections",
        headers=live_broker.user_headers(holder.session_jwt),
    )
    mine = next(c for c in listed.json()["connections"] if c["appId"] == app_id)
    assert mine["connected"] and mine["status"] == "active"
    assert mine["scopes"] == ["profile", "calendar.read"]
    assert int(mine["accessTokenExpiry"]) > 0
    assert mine["apiBaseUrls"] == [f"{provider.url}/api"]
    assert '"accessToken"' not in listed.text and '"refreshToken"' not in listed.text


def test_health_and_call_figures_are_for_admins(live_broker: LiveBroker) -> None:
    plain = user_with_key(live_broker)
    admin = user_with_key(live_broker, roles=["outbound-admin"])
    for path in ("/v1/x/agents/health", "/v1/x/agents/calls/summary"):
        denied = httpx.get(
            live_broker.url + path, headers=live_broker.user_headers(plain.session_jwt)
        )
        assert denied.status_code == 403
        allowed = httpx.get(
            live_broker.url + path, headers=live_broker.user_headers(admin.session_jwt)
        )
        assert allowed.status_code == 200, allowed.text
