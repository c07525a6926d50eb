"""Sessions: JWTs minted and verified, refresh, try-refresh, logout and logoutall on the wire."""

from __future__ import annotations

import httpx
import pytest

from broker.errors import TokenExpiredByLogout, Unauthorized
from broker.identity.sessions import check_session_live, end_session, start_session
from tests.support.identity import sign_in_new_user
from tests.support.servers import LiveBroker


def test_minted_refresh_jwt_verifies_with_descope_claims(live_broker: LiveBroker) -> None:
    user = sign_in_new_user(live_broker, roles=["outbound-admin"])
    claims = live_broker.broker.signing.verify(user.refresh_jwt, drn="DSR")
    assert claims["sub"] == user.user_id
    assert claims["iss"] == live_broker.project_id
    assert claims["roles"] == ["outbound-admin"]
    assert claims["amr"] == ["pwd"]
    assert {"iat", "exp", "tenants", "permissions"} <= claims.keys()


def test_session_jwt_is_not_a_refresh_jwt(live_broker: LiveBroker) -> None:
    user = sign_in_new_user(live_broker)
    with pytest.raises(Unauthorized):
        live_broker.broker.signing.verify(user.session_jwt, drn="DSR")


def test_logged_out_session_is_refused(live_broker: LiveBroker) -> None:
    user = sign_in_new_user(live_broker)
    claims = live_broker.broker.signing.verify(user.refresh_jwt, drn="DSR")
    end_session(live_broker.broker, claims["sid"])
    with pytest.raises(TokenExpiredByLogout):
        check_session_live(live_broker.broker, claims)


def _post(live: LiveBroker, path: str, jwt: str) -> httpx.Response:
    return httpx.post(f"{live.url}{path}", json={}, headers=live.user_headers(jwt))


def test_refresh_gives_a_new_session_jwt_and_keeps_the_refresh_jwt(live_broker: LiveBroker) -> None:
    user = sign_in_new_user(live_broker)
    r = _post(live_broker, "/v1/auth/refresh", user.refresh_jwt)
    assert r.status_code == 200
    body = r.json()
    assert body["sessionJwt"] != user.session_jwt and body["user"]["userId"] == user.user_id
    assert live_broker.broker.signing.verify(body["sessionJwt"], drn="DS")["sub"] == user.user_id
    # The refresh JWT it was given still works (clients keep using it for me and logout).
    assert _post(live_broker, "/v1/auth/refresh", user.refresh_jwt).status_code == 200
    me = httpx.get(
        f"{live_broker.url}/v1/auth/me", headers=live_broker.user_headers(user.refresh_jwt)
    )
    assert me.json()["userId"] == user.user_id and "user" not in me.json()


def test_refresh_reads_the_dsr_cookie(live_broker: LiveBroker) -> None:
    user = sign_in_new_user(live_broker)
    r = httpx.post(
        f"{live_broker.url}/v1/auth/refresh",
        json={},
        headers=live_broker.project_headers(),
        cookies={"DSR": user.refresh_jwt},
    )
    assert r.status_code == 200 and r.json()["user"]["userId"] == user.user_id


def test_try_refresh_without_a_token_is_empty_not_an_error(live_broker: LiveBroker) -> None:
    r = httpx.post(
        f"{live_broker.url}/v1/auth/try-refresh", json={}, headers=live_broker.project_headers()
    )
    assert r.status_code == 200 and r.json() == {}
    user = sign_in_new_user(live_broker)
    assert "sessionJwt" in _post(live_broker, "/v1/auth/try-refresh", user.refresh_jwt).json()


def test_logout_all_ends_every_session_of_the_user(live_broker: LiveBroker) -> None:
    user = sign_in_new_user(live_broker)
    second = start_session(live_broker.broker, user.user_id, ["pwd"])
    assert _post(live_broker, "/v1/auth/logoutall", user.refresh_jwt).json() == {}
    for jwt in (user.refresh_jwt, second.refresh_jwt):
        r = _post(live_broker, "/v1/auth/refresh", jwt)
        assert r.status_code == 401 and r.json()["errorCode"] == "E064001"


def test_logout_ends_only_this_session(live_broker: LiveBroker) -> None:
    user = sign_in_new_user(live_broker)
    second = start_session(live_broker.broker, user.user_id, ["pwd"])
    assert _post(live_broker, "/v1/auth/logout", user.refresh_jwt).status_code == 200
    assert _post(live_broker, "/v1/auth/refresh", user.refresh_jwt).status_code == 401
    assert _post(live_broker, "/v1/auth/refresh", second.refresh_jwt).status_code == 200
