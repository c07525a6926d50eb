"""Single-flight refresh across threads and two brokers sharing one database (both backends)."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.outbound import CALLBACK_PATH, CLIENT_SECRET, create_demo_app
from tests.support.provider import LiveProvider
from tests.support.servers import PG_URL_ENV, LiveBroker

FETCH = "/v1/mgmt/outbound/app/user/token/latest"


@pytest.fixture(params=["sqlite", "postgres"])
def replicas(
    request: pytest.FixtureRequest, make_broker: Callable[..., LiveBroker], tmp_path: Path
) -> tuple[LiveBroker, LiveBroker]:
    """Two brokers (replicas) on one database: one SQLite file, or one PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shared.db'}"
        first = make_broker(data_dir=tmp_path / "keys", database_url=url)
    else:
        if not os.environ.get(PG_URL_ENV):
            pytest.skip(f"{PG_URL_ENV} is not set")
        first = make_broker(backend="postgres", data_dir=tmp_path / "keys")
        url = first.broker.db.url
    return first, make_broker(data_dir=tmp_path / "keys", database_url=url)


def upload_token(
    live: LiveBroker, provider: LiveProvider, *, expired: bool = False
) -> tuple[str, str, dict[str, Any]]:
    """A demo app and a real grant from the provider stored for a new user: (app, user, grant)."""
    app_id = f"acme-{secrets.token_hex(4)}"
    create_demo_app(live, provider, app_id)
    client = provider.client(app_id, CLIENT_SECRET, redirect_uri=live.url + CALLBACK_PATH)
    grant = client.tokens()
    user_id = f"U{secrets.token_hex(8)}"
    expiry = int(time.time()) + (-10 if expired else grant["expires_in"])
    body = {
        "appId": app_id,
        "userId": user_id,
        "accessToken": grant["access_token"],
        "refreshToken": grant["refresh_token"],
        "accessTokenExpiry": expiry,
        "scopes": grant["scope"].split(),
    }
    path = "/v1/mgmt/outbound/app/user/oauthtoken/upload"
    response = httpx.post(live.url + path, headers=live.mgmt_headers(), json=body)
    assert response.status_code == 200, response.text
    return app_id, user_id, grant


def storm(
    brokers: list[LiveBroker], app_id: str, user_id: str, n: int, **options: Any
) -> list[httpx.Response]:
    """``n`` concurrent fetches spread over ``brokers``."""
    body = {"appId": app_id, "userId": user_id, "options": {"withRefreshToken": True, **options}}
    with httpx.Client(timeout=60, limits=httpx.Limits(max_connections=n)) as http:

        def one(i: int) -> httpx.Response:
            live = brokers[i % len(brokers)]
            return http.post(live.url + FETCH, headers=live.mgmt_headers(), json=body)

        with ThreadPoolExecutor(n) as pool:
            return list(pool.map(one, range(n)))


def slow_refresh_ahead(
    live: LiveBroker, provider: LiveProvider, latency_ms: int
) -> tuple[str, str, dict[str, Any]]:
    """A stored token (``upload_token``) whose next refresh the provider answers slowly."""
    app_id, user_id, grant = upload_token(live, provider)
    provider.reset_stats()
    provider.set_faults(latency_ms={"value": latency_ms, "remaining": 1})
    return app_id, user_id, grant


def refresh_calls(provider: LiveProvider) -> int:
    """Refresh requests that reached the provider."""
    return int(provider.stats()["token_calls"].get("refresh_token", 0))


def test_concurrent_forced_refreshes_on_two_replicas_reach_the_provider_once(
    replicas: tuple[LiveBroker, LiveBroker], provider: LiveProvider
) -> None:
    first, second = replicas
    app_id, user_id, grant = slow_refresh_ahead(first, provider, 800)
    answers = storm([first, second], app_id, user_id, 40, forceRefresh=True)
    assert {a.status_code for a in answers} == {200}
    tokens = {a.json()["token"]["accessToken"] for a in answers}
    assert len(tokens) == 1 and grant["access_token"] not in tokens
    assert refresh_calls(provider) == 1
    assert provider.stats()["reuse_detected"] == 0
    refresh = answers[0].json()["token"]["refreshToken"]
    assert provider.introspect(refresh)["active"] is True


def test_concurrent_fetches_of_an_expired_token_refresh_it_once(
    replicas: tuple[LiveBroker, LiveBroker], provider: LiveProvider
) -> None:
    first, second = replicas
    app_id, user_id, _ = upload_token(first, provider, expired=True)
    provider.reset_stats()
    answers = storm([first, second], app_id, user_id, 40)
    assert {a.status_code for a in answers} == {200}
    assert len({a.json()["token"]["accessToken"] for a in answers}) == 1
    assert all(int(a.json()["token"]["accessTokenExpiry"]) > time.time() + 60 for a in answers)
    assert refresh_calls(provider) == 1


def test_waiters_share_the_failure_of_the_refresh_they_waited_for(
    replicas: tuple[LiveBroker, LiveBroker], provider: LiveProvider
) -> None:
    first, second = replicas
    app_id, user_id, _ = upload_token(first, provider, expired=True)
    provider.reset_stats()
    provider.set_faults(
        latency_ms={"value": 800, "remaining": 1}, token_status={"value": 503, "remaining": 1}
    )
    answers = storm([first, second], app_id, user_id, 30)
    assert {a.status_code for a in answers} == {502}
    assert {a.json()["errorCode"] for a in answers} == {"E111506"}
    assert refresh_calls(provider) == 1  # nobody retried the failure they waited for


def test_a_burst_mixing_with_and_without_the_refresh_token_answers_each_as_asked(
    replicas: tuple[LiveBroker, LiveBroker], provider: LiveProvider
) -> None:
    first, second = replicas
    app_id, user_id, _ = slow_refresh_ahead(first, provider, 500)
    with ThreadPoolExecutor(2) as pool:
        asked, plain = pool.map(
            lambda with_refresh: storm(
                [first, second],
                app_id,
                user_id,
                16,
                forceRefresh=True,
                withRefreshToken=with_refresh,
            ),
            [True, False],
        )
    assert {a.status_code for a in asked + plain} == {200}
    assert all(a.json()["token"]["refreshToken"] for a in asked)
    assert not any(a.json()["token"].get("refreshToken") for a in plain)
    assert len({a.json()["token"]["accessToken"] for a in asked + plain}) == 1
    assert refresh_calls(provider) == 1
