"""Who may connect: forged, replayed and borrowed credentials, state and brute force.

Each test is one attack; each must end in a Descope 401/400/429 (or the broker's HTML error page
for a callback) with nothing stored for the attacker.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from broker.area_settings import ThrottlePolicy
from tests.support.identity import sign_in_new_user
from tests.support.outbound import consent, land, outcome_of, start_connect, stored_tokens
from tests.support.servers import LiveBroker


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims_of(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def _header_of(token: str) -> dict[str, Any]:
    header: dict[str, Any] = jwt.get_unverified_header(token)
    return header


def _tokens_of(live: LiveBroker, app_id: str) -> list[tuple[str, ...]]:
    return stored_tokens(live, app_id, "user_id", "granted_by")


def _me(live: LiveBroker, token: str) -> httpx.Response:
    return httpx.get(f"{live.url}/v1/auth/me", headers=live.user_headers(token))


def _connect_with(live: LiveBroker, token: str, app_id: str) -> httpx.Response:
    return httpx.post(
        f"{live.url}/v1/outbound/oauth/connect",
        headers=live.user_headers(token),
        json={"appId": app_id, "options": {"redirectUrl": "http://127.0.0.1:9/landing"}},
    )


def _assert_refused(live: LiveBroker, token: str, app_id: str) -> None:
    for answered in (_me(live, token), _connect_with(live, token, app_id)):
        assert answered.status_code == 401, answered.text
        assert answered.json()["errorCode"].startswith("E06")
    assert _tokens_of(live, app_id) == []


# ---- JWTs ---------------------------------------------------------------------------------


def test_jwt_with_alg_none_is_refused(live_broker: LiveBroker, app_id: str) -> None:
    real = sign_in_new_user(live_broker).refresh_jwt
    header = {**_header_of(real), "alg": "none"}
    forged = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(_claims_of(real)).encode())}."
    _assert_refused(live_broker, forged, app_id)


def test_jwt_hs256_signed_with_the_public_key_is_refused(
    live_broker: LiveBroker, app_id: str
) -> None:
    real = sign_in_new_user(live_broker).refresh_jwt
    jwks = httpx.get(f"{live_broker.url}/v2/keys/{live_broker.project_id}").json()["keys"]
    # The key-confusion attack: the public key, as PEM, used as the HMAC secret.
    public_pem = jwt.PyJWK(jwks[0]).key.public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    )
    header = {**_header_of(real), "alg": "HS256"}
    signing_input = (
        f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(_claims_of(real)).encode())}"
    )
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    _assert_refused(live_broker, f"{signing_input}.{_b64(signature)}", app_id)


def test_jwt_signed_by_another_projects_key_is_refused(
    live_broker: LiveBroker, app_id: str, make_broker: Callable[..., LiveBroker]
) -> None:
    other = make_broker()
    foreign = sign_in_new_user(other).refresh_jwt
    _assert_refused(live_broker, foreign, app_id)


def test_jwt_from_another_project_relabelled_as_ours_is_refused(
    live_broker: LiveBroker, app_id: str, make_broker: Callable[..., LiveBroker]
) -> None:
    other = make_broker()
    victim = sign_in_new_user(live_broker)
    claims = {**_claims_of(victim.refresh_jwt), "iss": live_broker.project_id}
    relabelled = other.broker.signing.mint(claims)  # their key, our issuer and user
    _assert_refused(live_broker, relabelled, app_id)


def test_expired_jwt_is_refused(live_broker: LiveBroker, app_id: str) -> None:
    real = sign_in_new_user(live_broker).refresh_jwt
    past = int(time.time()) - 3600
    expired = live_broker.broker.signing.mint({**_claims_of(real), "iat": past - 60, "exp": past})
    _assert_refused(live_broker, expired, app_id)


def test_logged_out_jwt_is_refused(live_broker: LiveBroker, app_id: str) -> None:
    user = sign_in_new_user(live_broker)
    out = httpx.post(
        f"{live_broker.url}/v1/auth/logout", headers=live_broker.user_headers(user.refresh_jwt)
    )
    assert out.status_code == 200
    _assert_refused(live_broker, user.refresh_jwt, app_id)


def test_session_jwt_is_not_a_refresh_jwt_for_connect(live_broker: LiveBroker, app_id: str) -> None:
    user = sign_in_new_user(live_broker)
    answered = _connect_with(live_broker, user.session_jwt, app_id)
    assert answered.status_code == 401
    assert _tokens_of(live_broker, app_id) == []


def test_tampered_subject_breaks_the_signature(live_broker: LiveBroker, app_id: str) -> None:
    attacker, victim = sign_in_new_user(live_broker), sign_in_new_user(live_broker)
    head, _, rest = attacker.refresh_jwt.partition(".")
    _, _, signature = rest.partition(".")
    claims = {**_claims_of(attacker.refresh_jwt), "sub": victim.user_id}
    _assert_refused(live_broker, f"{head}.{_b64(json.dumps(claims).encode())}.{signature}", app_id)


# ---- borrowed sessions and state ---------------------------------------------------------


def test_connect_naming_another_user_lands_tokens_on_the_jwts_user_only(
    live_broker: LiveBroker, app_id: str
) -> None:
    attacker, victim = sign_in_new_user(live_broker), sign_in_new_user(live_broker)
    started = start_connect(live_broker, attacker, app_id, userId=victim.user_id)
    assert started.status_code == 200
    landed = httpx.get(consent(started.json()["url"]))
    assert land(live_broker, landed.headers["location"], attacker)["outbound"] == "connected"
    assert _tokens_of(live_broker, app_id) == [(attacker.user_id, attacker.user_id)]


# The login-CSRF / COAT cases (another account finishing someone's consent) are in
# test_threats_connect_binding.py.


def test_replayed_state_stores_nothing_the_second_time(
    live_broker: LiveBroker, app_id: str
) -> None:
    user = sign_in_new_user(live_broker)
    callback = consent(start_connect(live_broker, user, app_id).json()["url"])
    first = httpx.get(callback)
    assert land(live_broker, first.headers["location"], user)["outbound"] == "connected"
    replayed = httpx.get(callback)
    assert replayed.status_code == 400 and "location" not in replayed.headers
    assert len(_tokens_of(live_broker, app_id)) == 1


def test_forged_state_with_a_real_code_stores_nothing(live_broker: LiveBroker, app_id: str) -> None:
    user = sign_in_new_user(live_broker)
    callback = consent(start_connect(live_broker, user, app_id).json()["url"])
    query = dict(parse_qsl(urlsplit(callback).query))
    forged = httpx.get(
        callback.split("?")[0], params={"code": query["code"], "state": secrets.token_urlsafe(32)}
    )
    assert forged.status_code == 400
    assert _tokens_of(live_broker, app_id) == []


def test_state_of_one_connect_cannot_carry_another_connects_code(
    live_broker: LiveBroker, app_id: str
) -> None:
    attacker, victim = sign_in_new_user(live_broker), sign_in_new_user(live_broker)
    attacker_callback = consent(start_connect(live_broker, attacker, app_id).json()["url"])
    victim_callback = consent(start_connect(live_broker, victim, app_id).json()["url"])
    attacker_answer = dict(parse_qsl(urlsplit(attacker_callback).query))
    swapped = {
        "code": attacker_answer["code"],
        "iss": attacker_answer["iss"],
        "state": dict(parse_qsl(urlsplit(victim_callback).query))["state"],
    }
    landed = httpx.get(attacker_callback.split("?")[0], params=swapped)
    # PKCE binds the code to the connect that asked for it: the exchange fails.
    assert landed.status_code == 302
    assert outcome_of(landed.headers["location"])["outbound"] == "error"
    assert _tokens_of(live_broker, app_id) == []


# ---- brute force -------------------------------------------------------------------------

STRICT = ThrottlePolicy(login_failures=3, address_failures=6, management_failures=3)


@pytest.fixture
def strict(make_broker: Callable[..., LiveBroker]) -> LiveBroker:
    """A broker (SQLite) with small throttle limits."""
    return make_broker(throttle=STRICT)


def test_brute_force_on_password_sign_in_across_login_ids_is_throttled(strict: LiveBroker) -> None:
    statuses = [
        httpx.post(
            f"{strict.url}/v1/auth/password/signin",
            headers=strict.project_headers(),
            json={"loginId": f"guess-{i}@example.test", "password": "hunter2"},
        ).status_code
        for i in range(8)
    ]
    assert statuses[:6] == [401] * 6 and statuses[6:] == [429, 429]


@pytest.mark.parametrize("form", ["pid:key", "pid:jwt:key"])
def test_brute_force_on_management_keys_is_throttled(strict: LiveBroker, form: str) -> None:
    jwt_part = sign_in_new_user(strict).refresh_jwt

    def guess() -> int:
        key = "K" + secrets.token_urlsafe(33)
        value = (
            f"{strict.project_id}:{key}"
            if form == "pid:key"
            else f"{strict.project_id}:{jwt_part}:{key}"
        )
        return httpx.get(
            f"{strict.url}/v1/mgmt/license", headers={"Authorization": f"Bearer {value}"}
        ).status_code

    statuses = [guess() for _ in range(5)]
    assert statuses[:3] == [401] * 3 and statuses[3:] == [429, 429]
    assert (
        httpx.get(f"{strict.url}/v1/mgmt/license", headers=strict.mgmt_headers()).status_code == 200
    )
