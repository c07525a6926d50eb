"""Password sign-up and sign-in on the wire: JWTResponse shape, policy, errors, explicit nulls."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from tests.support.servers import LiveBroker

PASSWORD = "correct horse battery"


def _login() -> str:
    return f"pw-{secrets.token_hex(4)}@example.test"


def _post(live: LiveBroker, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{live.url}{path}", json=body, headers=live.project_headers())


def test_sign_up_answers_a_jwt_response_with_the_user(live_broker: LiveBroker) -> None:
    login = _login()
    r = _post(
        live_broker,
        "/v1/auth/password/signup",
        {"loginId": login, "password": PASSWORD, "user": {"name": "Ada", "phone": None}},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert {"sessionJwt", "refreshJwt", "cookiePath", "cookieMaxAge", "cookieExpiration"} <= set(
        body
    )
    assert body["firstSeen"] is True
    assert body["user"]["loginIds"] == [login]
    assert body["user"]["name"] == "Ada" and body["user"]["email"] == login
    assert body["user"]["password"] is True
    claims = live_broker.broker.signing.verify(body["sessionJwt"], drn="DS")
    assert claims["sub"] == body["user"]["userId"] and claims["amr"] == ["pwd"]
    assert body["sessionExpiration"] == claims["exp"]
    assert claims["exp"] - claims["iat"] == live_broker.broker.settings.session_ttl_s


def test_sign_in_with_the_right_password_is_not_first_seen(live_broker: LiveBroker) -> None:
    login = _login()
    _post(live_broker, "/v1/auth/password/signup", {"loginId": login, "password": PASSWORD})
    r = _post(live_broker, "/v1/auth/password/signin", {"loginId": login, "password": PASSWORD})
    assert r.status_code == 200
    assert r.json()["firstSeen"] is False
    refresh = live_broker.broker.signing.verify(r.json()["refreshJwt"], drn="DSR")
    assert refresh["exp"] - refresh["iat"] == live_broker.broker.settings.refresh_ttl_s


def test_login_ids_match_without_regard_to_case(live_broker: LiveBroker) -> None:
    login = _login()
    _post(live_broker, "/v1/auth/password/signup", {"loginId": login, "password": PASSWORD})
    r = _post(
        live_broker, "/v1/auth/password/signin", {"loginId": login.upper(), "password": PASSWORD}
    )
    assert r.status_code == 200


def test_existing_login_id_cannot_sign_up_again(live_broker: LiveBroker) -> None:
    login = _login()
    _post(live_broker, "/v1/auth/password/signup", {"loginId": login, "password": PASSWORD})
    r = _post(live_broker, "/v1/auth/password/signup", {"loginId": login, "password": PASSWORD})
    assert r.json()["errorCode"] == "E062107"


def test_wrong_password_and_unknown_user_get_the_same_401(live_broker: LiveBroker) -> None:
    login = _login()
    _post(live_broker, "/v1/auth/password/signup", {"loginId": login, "password": PASSWORD})
    wrong = _post(live_broker, "/v1/auth/password/signin", {"loginId": login, "password": "x" * 9})
    unknown = _post(
        live_broker, "/v1/auth/password/signin", {"loginId": _login(), "password": PASSWORD}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["errorCode"].startswith("E06")


def test_password_length_policy_is_8_to_128(live_broker: LiveBroker) -> None:
    short = _post(
        live_broker, "/v1/auth/password/signup", {"loginId": _login(), "password": "7chars!"}
    )
    long = _post(
        live_broker, "/v1/auth/password/signup", {"loginId": _login(), "password": "x" * 129}
    )
    edge = _post(
        live_broker, "/v1/auth/password/signup", {"loginId": _login(), "password": "8chars!!"}
    )
    assert short.status_code == long.status_code == 400
    assert short.json()["errorCode"] == "E011003"
    assert edge.status_code == 200


def test_password_is_stored_as_an_argon2id_hash(live_broker: LiveBroker) -> None:
    from broker.identity.users import find_user

    login = _login()
    _post(live_broker, "/v1/auth/password/signup", {"loginId": login, "password": PASSWORD})
    with live_broker.broker.db.session() as s:
        user = find_user(s, login)
        assert user is not None and user.password_hash is not None
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash


def test_malformed_json_is_a_400_e011001(live_broker: LiveBroker) -> None:
    for path in ("/v1/auth/password/signin", "/v1/auth/otp/verify/email"):
        r = httpx.post(
            f"{live_broker.url}{path}",
            content=b'{"loginId": "a",',
            headers={**live_broker.project_headers(), "Content-Type": "application/json"},
        )
        assert r.status_code == 400 and r.json()["errorCode"] == "E011001"
    r = httpx.post(
        f"{live_broker.url}/v1/mgmt/user/create",
        content=b"not json",
        headers={**live_broker.mgmt_headers(), "Content-Type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["errorCode"] == "E011001"


def test_missing_field_is_a_descope_400_not_a_422(live_broker: LiveBroker) -> None:
    r = _post(live_broker, "/v1/auth/password/signin", {"loginId": _login()})
    assert r.status_code == 400 and r.json()["errorCode"] == "E011003"


def test_sign_in_needs_this_project_id(live_broker: LiveBroker) -> None:
    r = httpx.post(
        f"{live_broker.url}/v1/auth/password/signin",
        json={"loginId": _login(), "password": PASSWORD},
        headers={"Authorization": "Bearer P2aaaaaaaaaaaaaaaaaaaaaaaaaaa"},
    )
    assert r.status_code == 401 and r.json()["errorCode"].startswith("E")
