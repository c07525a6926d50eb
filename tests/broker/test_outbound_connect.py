"""Connect and callback over real HTTP between the broker and the demo provider."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
from sqlalchemy import update

from broker.area_settings import ConnectOptions
from broker.config import BrokerSettings
from broker.providers.url_policy import redirect_allowed
from broker.store.outbound import ManagedTokenRow, PendingAuthorizationRow
from tests.support.identity import SignedInUser, sign_in_new_user
from tests.support.outbound import (
    CALLBACK_PATH,
    CLIENT_SECRET,
    LANDING,
    confirm,
    connect,
    consent,
    create_demo_app,
    fetch_latest,
    land,
    outcome_of,
    start_connect,
)
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker


def _token_count(live: LiveBroker, app_id: str) -> int:
    with live.broker.db.session() as s:
        return s.query(ManagedTokenRow).filter_by(app_id=app_id).count()


def test_connect_answers_an_authorization_url_with_pkce_and_default_scopes(
    live_broker: LiveBroker, provider: LiveProvider, app_id: str
) -> None:
    user = sign_in_new_user(live_broker)
    response = start_connect(live_broker, user, app_id)
    assert response.status_code == 200, response.text
    url = urlsplit(response.json()["url"])
    query = dict(parse_qsl(url.query))
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{provider.url}/oauth/authorize"
    assert query["client_id"] == app_id and query["response_type"] == "code"
    assert query["redirect_uri"] == live_broker.url + CALLBACK_PATH
    assert query["scope"] == "profile email calendar.read offline_access"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 32


def test_mgmt_connect_path_is_the_same_handler_and_ignores_the_provider_field(
    live_broker: LiveBroker, app_id: str
) -> None:
    user = sign_in_new_user(live_broker)
    response = httpx.post(
        f"{live_broker.url}/v1/mgmt/outbound/app/connect",
        headers=live_broker.user_headers(user.refresh_jwt),
        json={
            "appId": app_id,
            "provider": app_id,
            "options": {"redirectURL": LANDING, "scopes": ["profile"]},
        },
    )
    assert response.status_code == 200, response.text
    assert dict(parse_qsl(urlsplit(response.json()["url"]).query))["scope"] == "profile"


def test_connect_takes_the_refresh_jwt_from_the_dsr_cookie(
    live_broker: LiveBroker, app_id: str
) -> None:
    user = sign_in_new_user(live_broker)
    response = httpx.post(
        f"{live_broker.url}/v1/outbound/oauth/connect",
        headers=live_broker.project_headers(),
        cookies={"DSR": user.refresh_jwt},
        json={"appId": app_id, "options": {"redirectUrl": LANDING}},
    )
    assert response.status_code == 200, response.text


def test_connect_needs_a_user_session(live_broker: LiveBroker, app_id: str) -> None:
    response = httpx.post(
        f"{live_broker.url}/v1/outbound/oauth/connect",
        headers=live_broker.mgmt_headers(),
        json={"appId": app_id, "options": {"redirectUrl": LANDING}},
    )
    assert response.status_code == 401


def test_connect_to_an_unknown_app_is_a_descope_404(live_broker: LiveBroker) -> None:
    user = sign_in_new_user(live_broker)
    response = start_connect(live_broker, user, "no-such-app")
    assert response.status_code == 404 and response.json()["errorCode"]


def test_redirect_not_on_the_allowed_list_is_400(live_broker: LiveBroker, app_id: str) -> None:
    user = sign_in_new_user(live_broker)
    for url in (
        "https://evil.example.com/cb",
        "javascript:alert(1)",
        "http://user@127.0.0.1/x",
        "http://[",  # urlsplit raises on these two: refused, not a 500
        "http://127.0.0.1:port/",
    ):
        response = start_connect(live_broker, user, app_id, redirect_url=url)
        assert response.status_code == 400, url
    missing = start_connect(live_broker, user, app_id, redirect_url="")
    assert missing.status_code == 400


def test_allowed_redirects_are_origins_or_url_prefixes() -> None:
    default = BrokerSettings(dashboard_url="https://console.example.com")
    assert redirect_allowed("https://console.example.com/landing", default)
    assert redirect_allowed("http://localhost:3000/cb", default)
    assert not redirect_allowed("https://console.example.com.evil.com/", default)
    custom = BrokerSettings(
        allowed_redirects=("https://app.example.com", "https://other.example.com/oauth/")
    )
    assert redirect_allowed("https://app.example.com/any/path", custom)
    assert redirect_allowed("https://other.example.com/oauth/done", custom)
    assert not redirect_allowed("https://other.example.com/elsewhere", custom)
    assert not redirect_allowed("http://127.0.0.1:8501/", custom)
    assert redirect_allowed(f"{custom.base_url}/", custom)  # the broker itself (the seed lands)


def test_full_connect_stores_the_scopes_the_provider_granted(
    live_broker: LiveBroker, provider: LiveProvider, app_id: str
) -> None:
    provider.set_faults(narrow_scopes=["email"])
    user = sign_in_new_user(live_broker)
    outcome = connect(live_broker, user, app_id, ["profile", "email", "offline_access"])
    assert outcome["outbound"] == "connected" and outcome["appId"] == app_id
    assert outcome["scopes"] == "profile offline_access"
    assert outcome["requestedScopes"] == "profile email offline_access"
    assert outcome["hasRefreshToken"] == "true"
    token = fetch_latest(live_broker, app_id, user.user_id).json()["token"]
    assert token["id"] == outcome["tokenId"]
    assert token["scopes"] == ["profile", "offline_access"]
    assert token["requestedScopes"] == ["profile", "email", "offline_access"]
    assert token["grantedBy"] == user.user_id and token["hasRefreshToken"] is True


def test_replayed_state_shows_an_error_page_and_stores_nothing(
    live_broker: LiveBroker, app_id: str
) -> None:
    user = sign_in_new_user(live_broker)
    callback = consent(start_connect(live_broker, user, app_id).json()["url"])
    first = land(live_broker, httpx.get(callback).headers["location"], user)
    assert first["outbound"] == "connected"
    httpx.delete(
        f"{live_broker.url}/v1/mgmt/outbound/token",
        headers=live_broker.mgmt_headers(),
        params={"id": first["tokenId"]},
    )
    replay = httpx.get(callback)
    assert replay.status_code == 400 and "text/html" in replay.headers["content-type"]
    assert "already used" in replay.text
    assert _token_count(live_broker, app_id) == 0


def test_unknown_state_shows_an_error_page(live_broker: LiveBroker) -> None:
    response = httpx.get(
        f"{live_broker.url}{CALLBACK_PATH}", params={"code": "x", "state": "forged"}
    )
    assert response.status_code == 400 and "Connection failed" in response.text


def test_expired_state_redirects_with_an_error_and_stores_nothing(
    live_broker: LiveBroker, app_id: str
) -> None:
    user = sign_in_new_user(live_broker)
    callback = consent(start_connect(live_broker, user, app_id).json()["url"])
    with live_broker.broker.db.session() as s:
        s.execute(
            update(PendingAuthorizationRow)
            .where(PendingAuthorizationRow.app_id == app_id)
            .values(expires_at=0)
        )
    landed = httpx.get(callback)
    assert landed.status_code == 302
    outcome = outcome_of(landed.headers["location"])
    assert outcome | {"errorDescription": "", "flow": ""} == {
        "outbound": "error", "appId": app_id, "error": "expired_state", "errorDescription": "",
        "flow": "",
    }  # fmt: skip
    assert _token_count(live_broker, app_id) == 0


def _state_of(authorization_url: str) -> str:
    return dict(parse_qsl(urlsplit(authorization_url).query))["state"]


def _answer(live: LiveBroker, state: str, provider: LiveProvider, **params: str) -> httpx.Response:
    """The callback as the demo provider calls it (RFC 9207: with its ``iss``)."""
    query = {"state": state, "iss": provider.url, **params}
    return httpx.get(f"{live.url}{CALLBACK_PATH}", params=query)


def test_provider_error_redirects_with_the_error_and_stores_nothing(
    live_broker: LiveBroker, app_id: str, provider: LiveProvider
) -> None:
    user = sign_in_new_user(live_broker)
    state = _state_of(start_connect(live_broker, user, app_id).json()["url"])
    landed = _answer(
        live_broker, state, provider, error="access_denied", error_description="The user said no"
    )
    outcome = outcome_of(landed.headers["location"])
    assert landed.headers["location"].startswith(LANDING + "?")
    assert outcome.pop("flow")
    assert outcome == {
        "outbound": "error",
        "appId": app_id,
        "error": "access_denied",
        "errorDescription": "The user said no",
    }
    assert _token_count(live_broker, app_id) == 0


def test_callback_without_code_redirects_with_missing_code(
    live_broker: LiveBroker, app_id: str, provider: LiveProvider
) -> None:
    user = sign_in_new_user(live_broker)
    state = _state_of(start_connect(live_broker, user, app_id).json()["url"])
    landed = _answer(live_broker, state, provider)
    assert outcome_of(landed.headers["location"])["error"] == "missing_code"
    assert _token_count(live_broker, app_id) == 0


def test_rejected_code_exchange_redirects_with_the_provider_error(
    live_broker: LiveBroker, app_id: str, provider: LiveProvider
) -> None:
    user = sign_in_new_user(live_broker)
    state = _state_of(start_connect(live_broker, user, app_id).json()["url"])
    landed = _answer(live_broker, state, provider, code="made-up")
    outcome = outcome_of(landed.headers["location"])
    assert outcome["outbound"] == "error" and outcome["error"] == "invalid_grant"
    assert _token_count(live_broker, app_id) == 0


def test_reconnecting_updates_the_same_record_and_keeps_the_refresh_token(
    live_broker: LiveBroker, app_id: str
) -> None:
    user = sign_in_new_user(live_broker)
    first = connect(live_broker, user, app_id, ["profile", "offline_access"])
    second = connect(live_broker, user, app_id, ["profile", "email"])
    assert second["tokenId"] == first["tokenId"]
    assert second["hasRefreshToken"] == "true"
    token = fetch_latest(live_broker, app_id, user.user_id).json()["token"]
    assert token["scopes"] == ["profile", "email"] and token["hasRefreshToken"] is True


def test_pending_authorization_survives_a_broker_restart(
    make_broker: Callable[..., LiveBroker], provider: LiveProvider, tmp_path: Path
) -> None:
    data_dir = tmp_path / "restart"
    first = make_broker(data_dir=data_dir)
    app_id = f"acme-{secrets.token_hex(4)}"
    create_demo_app(first, provider, app_id)
    user = sign_in_new_user(first)
    state = _state_of(start_connect(first, user, app_id).json()["url"])
    first.stop()
    second = make_broker(data_dir=data_dir)
    landed = _answer(second, state, provider, error="access_denied")
    assert landed.status_code == 302
    assert outcome_of(landed.headers["location"])["appId"] == app_id


def test_database_file_holds_no_token_or_client_secret_in_clear(
    make_broker: Callable[..., LiveBroker], provider: LiveProvider, tmp_path: Path
) -> None:
    live = make_broker(data_dir=tmp_path / "scan")
    app_id = f"acme-{secrets.token_hex(4)}"
    create_demo_app(live, provider, app_id)
    user = sign_in_new_user(live)
    connect(live, user, app_id)
    token = fetch_latest(live, app_id, user.user_id, withRefreshToken=True).json()["token"]
    secrets_in_clear = [token["accessToken"], token["refreshToken"], CLIENT_SECRET]
    assert all(len(s) > 20 for s in secrets_in_clear)
    files = [p for p in (tmp_path / "scan").iterdir() if p.name.startswith("broker.db")]
    assert files
    for path in files:
        raw = path.read_bytes()
        for secret in secrets_in_clear:
            assert secret.encode() not in raw, path.name
            # Also not as a JWT part (the access token is a JWT; its signature is the secret part).
            assert secret.split(".")[-1].encode() not in raw, path.name


def _callback_query_on(
    make_broker: Callable[..., LiveBroker], provider: LiveProvider, **connect: bool
) -> tuple[LiveBroker, SignedInUser, str, dict[str, str]]:
    """A broker with these connect settings, a user connected there: the callback's query."""
    live = make_broker(connect=ConnectOptions(**connect))
    app_id = f"acme-{secrets.token_hex(4)}"
    create_demo_app(live, provider, app_id)
    user = sign_in_new_user(live)
    landed = httpx.get(consent(start_connect(live, user, app_id).json()["url"]))
    return live, user, app_id, outcome_of(landed.headers["location"])


def test_strict_mode_has_no_verifier_no_landing_id_and_no_extension_paths(
    make_broker: Callable[..., LiveBroker], provider: LiveProvider
) -> None:
    live, user, app_id, outcome = _callback_query_on(make_broker, provider, strict_descope=True)
    assert outcome["outbound"] == "connected" and "flow" not in outcome  # stored at once
    assert _token_count(live, app_id) == 1
    for path in ("/v1/x/outbound/oauth/confirm", "/v1/x/outbound/oauth/status"):
        answer = httpx.post(
            f"{live.url}{path}", headers=live.user_headers(user.refresh_jwt), json={"flow": "x"}
        )
        assert answer.status_code == 404


def test_with_the_verifier_off_the_callback_stores_and_still_reports_once(
    make_broker: Callable[..., LiveBroker], provider: LiveProvider
) -> None:
    live, user, app_id, outcome = _callback_query_on(make_broker, provider, confirmation=False)
    assert outcome["outbound"] == "connected" and _token_count(live, app_id) == 1
    assert confirm(live, outcome["flow"], None)["outcome"] == "connected"  # as recorded
    assert confirm(live, outcome["flow"], user)["outcome"] == "used"
