"""Strict mode answers only Descope's own surface: the broker as the cloud's stand-in."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from broker.cli import _broker_settings, build_parser
from broker.config import BrokerSettings
from broker.strict import APP_FIELDS, TOKEN_FIELDS, plain_redirect
from tests.support.identity import sign_in_new_user
from tests.support.outbound import LANDING, connect, create_demo_app, fetch_latest
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker, start_broker
from tests.support.token_seed import upload_user_token

APP = "strict-cal"


@pytest.fixture(scope="module")
def strict(
    tmp_path_factory: pytest.TempPathFactory, shared_provider: LiveProvider
) -> Iterator[LiveBroker]:
    """A strict broker with the demo app."""
    live = start_broker(tmp_path_factory.mktemp("strict"), strict_descope=True)
    create_demo_app(live, shared_provider, APP)
    yield live
    live.stop()


@pytest.mark.parametrize(
    "path",
    [
        "/v1/x/health",
        "/v1/x/outbound/catalog",
        "/v1/x/outbound/inventory",
        "/v1/x/events",
        "/v1/x/outbox?loginId=a@b.test",
        "/metrics",
        "/openapi.json",
        "/docs",
    ],
)
def test_no_endpoint_beyond_descopes_answers(strict: LiveBroker, path: str) -> None:
    response = httpx.get(f"{strict.url}{path}", headers=strict.mgmt_headers())
    assert response.status_code == 404
    assert response.json()["errorCode"] == "E011006"


def test_apps_and_tokens_carry_only_descopes_fields(strict: LiveBroker) -> None:
    app = httpx.get(f"{strict.url}/v1/mgmt/outbound/app/{APP}", headers=strict.mgmt_headers())
    assert set(app.json()["app"]) <= APP_FIELDS
    assert "hasClientSecret" not in app.json()["app"]
    apps = httpx.get(f"{strict.url}/v1/mgmt/outbound/apps", headers=strict.mgmt_headers())
    assert all(set(a) <= APP_FIELDS for a in apps.json()["apps"])

    user = sign_in_new_user(strict)
    upload_user_token(
        strict, APP, user.user_id, accessToken="a" * 40, accessTokenExpiry=int(time.time()) + 3600
    )
    token = fetch_latest(strict, APP, user.user_id).json()["token"]
    assert set(token) == TOKEN_FIELDS - {"refreshToken"}

    deleted = httpx.delete(
        f"{strict.url}/v1/mgmt/outbound/user/tokens",
        params={"userId": user.user_id},
        headers=strict.mgmt_headers(),
    )
    assert deleted.status_code == 200 and deleted.json() == {}


def test_the_consent_lands_on_the_redirect_url_as_given(strict: LiveBroker) -> None:
    user = sign_in_new_user(strict)
    assert connect(strict, user, APP) == {}  # no outbound=, appId=, tokenId=, scopes=
    listed = httpx.get(
        f"{strict.url}/v1/mgmt/outbound/apps-with-user-token",
        params={"userId": user.user_id},
        headers=strict.mgmt_headers(),
    )
    assert listed.json() == {"appIds": [APP]}


def test_only_descopes_error_codes(strict: LiveBroker, provider: LiveProvider) -> None:
    unknown_app = fetch_latest(strict, "no-such-app", "U1")
    assert (unknown_app.status_code, unknown_app.json()["errorCode"]) == (404, "E011006")
    not_connected = fetch_latest(strict, APP, "U-nobody")
    assert (not_connected.status_code, not_connected.json()["errorCode"]) == (404, "E111504")

    user = sign_in_new_user(strict)
    expired = int(time.time()) - 60
    upload_user_token(
        strict, APP, user.user_id, accessToken="a" * 40, accessTokenExpiry=expired,
        refreshToken="r" * 40,
    )  # fmt: skip
    provider.set_faults(token_status=503)
    try:
        unavailable = fetch_latest(strict, APP, user.user_id)
    finally:
        provider.reset_faults()
    assert unavailable.status_code == 502 and unavailable.json()["errorCode"] == "E011000"
    connect(strict, user, APP)
    provider.set_faults(refresh_error="invalid_grant")
    try:
        dead = fetch_latest(strict, APP, user.user_id, forceRefresh=True)
    finally:
        provider.reset_faults()
    assert dead.status_code == 404 and dead.json()["errorCode"] == "E011006"
    assert "re-authorization" in dead.json()["errorDescription"]  # the text is kept


def test_the_redirect_keeps_the_callers_own_parameters() -> None:
    given = LANDING + "?tab=apps&appId=mine"
    assert plain_redirect(given + "&outbound=connected&tokenId=T1") == LANDING + "?tab=apps"


def test_the_flag_and_the_environment_switch_it_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OUTBOUND_STRICT_DESCOPE", raising=False)
    args = build_parser().parse_args(["broker", "--strict-descope"])
    assert _broker_settings(args).strict_descope is True
    assert _broker_settings(build_parser().parse_args(["broker"])).strict_descope is False
    monkeypatch.setenv("OUTBOUND_STRICT_DESCOPE", "1")
    settings = BrokerSettings.from_env()
    assert settings.strict_descope is True
    assert settings.to_env()["OUTBOUND_STRICT_DESCOPE"] == "1"
