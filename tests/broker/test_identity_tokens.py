"""Bad credentials of every kind get 401 with a Descope error body."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from broker.store.db import now_s
from tests.support.identity import SignedInUser, sign_in_new_user
from tests.support.servers import LiveBroker


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(live: LiveBroker, user: SignedInUser) -> dict[str, Any]:
    return live.broker.signing.verify(user.refresh_jwt, drn="DSR")


def _header(token: str) -> dict[str, Any]:
    head = token.split(".")[0]
    parsed: dict[str, Any] = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    return parsed


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"


def _assert_descope_401(r: httpx.Response) -> None:
    assert r.status_code == 401, r.text
    body = r.json()
    assert body["errorCode"].startswith("E") and body["errorDescription"] and body["errorMessage"]


def _me(live: LiveBroker, token: str) -> httpx.Response:
    return httpx.get(f"{live.url}/v1/auth/me", headers=live.user_headers(token))


def test_a_live_refresh_jwt_reads_me(live_broker: LiveBroker) -> None:
    user = sign_in_new_user(live_broker)
    r = _me(live_broker, user.refresh_jwt)
    assert r.status_code == 200 and r.json()["userId"] == user.user_id


def test_tampered_signature_is_401(live_broker: LiveBroker) -> None:
    user = sign_in_new_user(live_broker)
    head, payload, signature = user.refresh_jwt.split(".")
    flipped = ("A" if signature[10] != "A" else "B").join([signature[:10], signature[11:]])
    _assert_descope_401(_me(live_broker, f"{head}.{payload}.{flipped}"))


def test_tampered_claims_are_401(live_broker: LiveBroker) -> None:
    user, other = sign_in_new_user(live_broker), sign_in_new_user(live_broker)
    head, _, signature = user.refresh_jwt.split(".")
    claims = {**_claims(live_broker, user), "sub": other.user_id}
    _assert_descope_401(_me(live_broker, f"{head}.{_b64(json.dumps(claims).encode())}.{signature}"))


def test_expired_token_is_401(live_broker: LiveBroker) -> None:
    user = sign_in_new_user(live_broker)
    t = int(now_s())
    expired = live_broker.broker.signing.mint(
        {**_claims(live_broker, user), "iat": t - 3600, "exp": t - 600}
    )
    _assert_descope_401(_me(live_broker, expired))


def test_logged_out_token_is_401_e064001(live_broker: LiveBroker) -> None:
    user = sign_in_new_user(live_broker)
    out = httpx.post(
        f"{live_broker.url}/v1/auth/logout",
        json={},
        headers=live_broker.user_headers(user.refresh_jwt),
    )
    assert out.status_code == 200 and out.json() == {}
    r = _me(live_broker, user.refresh_jwt)
    _assert_descope_401(r)
    assert r.json()["errorCode"] == "E064001"


def test_token_issued_for_another_project_is_401(live_broker: LiveBroker) -> None:
    user = sign_in_new_user(live_broker)
    foreign = live_broker.broker.signing.mint(
        {**_claims(live_broker, user), "iss": "P2aaaaaaaaaaaaaaaaaaaaaaaaaaa"}
    )
    _assert_descope_401(_me(live_broker, foreign))


def test_token_from_another_broker_is_401(
    live_broker: LiveBroker, make_broker: Callable[..., LiveBroker]
) -> None:
    other = make_broker()
    _assert_descope_401(_me(live_broker, sign_in_new_user(other).refresh_jwt))


def test_alg_none_token_is_401(live_broker: LiveBroker) -> None:
    user = sign_in_new_user(live_broker)
    kid = _header(user.refresh_jwt)["kid"]
    token = _unsigned({"alg": "none", "typ": "JWT", "kid": kid}, _claims(live_broker, user)) + "."
    _assert_descope_401(_me(live_broker, token))


def test_hs256_signed_with_the_public_key_is_401(live_broker: LiveBroker) -> None:
    """The classic key-confusion attack: HMAC keyed with the published RSA public key."""
    from cryptography.hazmat.primitives import serialization
    from jwt.algorithms import RSAAlgorithm

    user = sign_in_new_user(live_broker)
    kid = _header(user.refresh_jwt)["kid"]
    jwks = httpx.get(f"{live_broker.url}/v2/keys/{live_broker.project_id}").json()["keys"]
    public_key = RSAAlgorithm.from_jwk(next(k for k in jwks if k["kid"] == kid))
    pem = public_key.public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = _unsigned(
        {"alg": "HS256", "typ": "JWT", "kid": kid}, _claims(live_broker, user)
    )
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    _assert_descope_401(_me(live_broker, f"{signing_input}.{_b64(mac)}"))


def test_session_jwt_cannot_refresh(live_broker: LiveBroker) -> None:
    user = sign_in_new_user(live_broker)
    r = httpx.post(
        f"{live_broker.url}/v1/auth/refresh",
        json={},
        headers=live_broker.user_headers(user.session_jwt),
    )
    _assert_descope_401(r)


@pytest.mark.parametrize(
    "path", ["/v1/mgmt/user/search", "/v2/mgmt/user/search", "/v1/mgmt/tenant/create"]
)
def test_wrong_management_key_is_401(live_broker: LiveBroker, path: str) -> None:
    r = httpx.post(
        f"{live_broker.url}{path}",
        json={"name": "x"},
        headers={"Authorization": f"Bearer {live_broker.project_id}:Kwrong-key"},
    )
    _assert_descope_401(r)


def test_wrong_project_id_with_the_right_key_is_401(live_broker: LiveBroker) -> None:
    r = httpx.post(
        f"{live_broker.url}/v2/mgmt/user/search",
        json={},
        headers={
            "Authorization": f"Bearer P2aaaaaaaaaaaaaaaaaaaaaaaaaaa:{live_broker.management_key}"
        },
    )
    _assert_descope_401(r)


def test_user_jwt_is_not_a_management_key(live_broker: LiveBroker) -> None:
    user = sign_in_new_user(live_broker)
    r = httpx.post(
        f"{live_broker.url}/v2/mgmt/user/search",
        json={},
        headers=live_broker.user_headers(user.refresh_jwt),
    )
    _assert_descope_401(r)
