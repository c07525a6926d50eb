"""Demo provider: refresh rotation and reuse detection, revocation, introspection, the API."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import jwt
import pytest

from tests.support.provider import DemoClient, LiveProvider, start_provider


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _introspect(client: DemoClient, token: str) -> dict[str, object]:
    assert client.client_secret is not None
    response = client.provider.http.post(
        f"{client.provider.url}/oauth/introspect",
        data={"token": token},
        auth=httpx.BasicAuth(client.client_id, client.client_secret),
    )
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


def _revoke(client: DemoClient, token: str) -> httpx.Response:
    assert client.client_secret is not None
    return client.provider.http.post(
        f"{client.provider.url}/oauth/revoke",
        data={"token": token},
        auth=httpx.BasicAuth(client.client_id, client.client_secret),
    )


def test_access_token_is_a_decodable_jwt_with_the_standard_claims(provider: LiveProvider) -> None:
    tokens = provider.client().tokens("profile calendar.read")
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["iss"] == provider.url
    assert claims["sub"] == "acme-user-1001"
    assert claims["client_id"] == "acme-test-client"
    assert claims["scope"] == "profile calendar.read"
    assert claims["exp"] - claims["iat"] == 3600
    jwks = provider.http.get(f"{provider.url}/oauth/jwks").json()
    key = jwt.PyJWK(jwks["keys"][0])
    assert jwt.decode(tokens["access_token"], key, algorithms=["RS256"], audience=claims["aud"])


def test_refresh_rotates_and_the_old_refresh_token_is_retired(provider: LiveProvider) -> None:
    client = provider.client()
    first = client.tokens()
    second = client.refresh(first["refresh_token"]).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert provider.introspect(first["refresh_token"])["status"] == "rotated"
    assert provider.introspect(second["refresh_token"])["status"] == "active"
    assert client.refresh(second["refresh_token"]).status_code == 200


def test_reusing_a_rotated_refresh_token_revokes_the_whole_grant(provider: LiveProvider) -> None:
    client = provider.client()
    first = client.tokens()
    second = client.refresh(first["refresh_token"]).json()
    reuse = client.refresh(first["refresh_token"])
    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"
    dead = client.refresh(second["refresh_token"])
    assert dead.json()["error"] == "invalid_grant"
    assert (
        provider.http.get(
            f"{provider.url}/api/me", headers=_bearer(second["access_token"])
        ).status_code
        == 401
    )
    status = provider.introspect(second["refresh_token"])
    assert status["status"] == "revoked"
    assert status["grant_revoked_reason"] == "refresh_token_reuse"
    assert provider.stats()["reuse_detected"] == 1


def test_non_rotating_refresh_keeps_the_same_refresh_token(provider: LiveProvider) -> None:
    client = provider.client()
    first = client.tokens()
    provider.set_faults(non_rotating=True)
    for _ in range(2):
        again = client.refresh(first["refresh_token"]).json()
        assert again["refresh_token"] == first["refresh_token"]
    assert provider.introspect(first["refresh_token"])["status"] == "active"


def test_refresh_may_ask_for_fewer_scopes_but_not_more(provider: LiveProvider) -> None:
    client = provider.client()
    tokens = client.tokens("profile calendar.read offline_access")
    narrower = client.token_request(
        grant_type="refresh_token", refresh_token=tokens["refresh_token"], scope="profile"
    ).json()
    assert narrower["scope"] == "profile"
    wider = client.token_request(
        grant_type="refresh_token", refresh_token=narrower["refresh_token"], scope="email"
    )
    assert wider.json()["error"] == "invalid_scope"


def test_refresh_token_of_another_client_is_invalid_grant(provider: LiveProvider) -> None:
    tokens = provider.client().tokens()
    other = provider.client("other-app", "other-secret")
    assert other.refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"


@pytest.mark.parametrize("which", ["access_token", "refresh_token"])
def test_revoking_either_token_ends_the_grant(provider: LiveProvider, which: str) -> None:
    client = provider.client()
    tokens = client.tokens()
    assert _revoke(client, tokens[which]).status_code == 200
    assert (
        provider.http.get(
            f"{provider.url}/api/me", headers=_bearer(tokens["access_token"])
        ).status_code
        == 401
    )
    assert client.refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert provider.introspect(tokens["access_token"])["status"] == "revoked"
    assert provider.stats()["revocations"] == 1


def test_revoking_an_unknown_token_answers_200(provider: LiveProvider) -> None:
    client = provider.client()
    assert _revoke(client, "never-issued").status_code == 200


def test_revocation_requires_client_authentication(provider: LiveProvider) -> None:
    tokens = provider.client().tokens()
    response = provider.http.post(
        f"{provider.url}/oauth/revoke", data={"token": tokens["access_token"]}
    )
    assert response.json()["error"] == "invalid_client"
    assert provider.introspect(tokens["access_token"])["active"] is True


def test_introspection_describes_active_tokens_to_their_client_only(provider: LiveProvider) -> None:
    client = provider.client()
    tokens = client.tokens("profile email")
    access = _introspect(client, tokens["access_token"])
    assert access["active"] is True
    assert access["scope"] == "profile email"
    assert access["client_id"] == client.client_id
    assert access["sub"] == "acme-user-1001"
    assert access["token_type"] == "access_token"
    assert _introspect(client, tokens["refresh_token"])["active"] is True
    other = provider.client("other-app", "other-secret")
    assert _introspect(other, tokens["access_token"]) == {"active": False}
    _revoke(client, tokens["access_token"])
    assert _introspect(client, tokens["access_token"]) == {"active": False}
    assert provider.stats()["introspections"] == 4


def test_introspection_needs_client_credentials(provider: LiveProvider) -> None:
    response = provider.http.post(f"{provider.url}/oauth/introspect", data={"token": "x"})
    assert response.status_code in (400, 401)
    assert response.json()["error"] == "invalid_client"


def test_me_needs_profile_and_shows_email_only_with_email(provider: LiveProvider) -> None:
    client = provider.client()
    without_email = client.tokens("profile")["access_token"]
    assert provider.http.get(f"{provider.url}/api/me", headers=_bearer(without_email)).json() == {
        "id": "acme-user-1001",
        "name": "Alex Rivera",
    }
    with_email = client.tokens("profile email")["access_token"]
    me = provider.http.get(f"{provider.url}/api/me", headers=_bearer(with_email)).json()
    assert me["email"] == "alex@acme.test"
    no_profile = client.tokens("calendar.read")["access_token"]
    denied = provider.http.get(f"{provider.url}/api/me", headers=_bearer(no_profile))
    assert denied.status_code == 403
    assert denied.json()["error"] == "insufficient_scope"
    assert 'scope="profile"' in denied.headers["www-authenticate"]


def test_events_need_calendar_read_and_are_stable_per_user(provider: LiveProvider) -> None:
    client = provider.client()
    token = client.tokens("calendar.read")["access_token"]
    first = provider.http.get(f"{provider.url}/api/events", headers=_bearer(token)).json()["items"]
    again = provider.http.get(f"{provider.url}/api/events", headers=_bearer(token)).json()["items"]
    assert len(first) == 8 and first == again
    assert {"id", "title", "start", "end", "location"} <= set(first[0])
    assert [e["start"] for e in first] == sorted(e["start"] for e in first)
    profile_only = client.tokens("profile")["access_token"]
    denied = provider.http.get(f"{provider.url}/api/events", headers=_bearer(profile_only))
    assert denied.status_code == 403


def test_events_differ_between_users(provider: LiveProvider) -> None:
    client = provider.client()
    params = client.authorize_params("calendar.read", "v" * 43)
    params["login_hint"] = "jordan@acme.test"
    code = httpx.URL(client.authorize(params).headers["location"]).params["code"]
    jordan = client.exchange(code, "v" * 43).json()["access_token"]
    alex = client.tokens("calendar.read")["access_token"]
    get = lambda t: provider.http.get(f"{provider.url}/api/events", headers=_bearer(t)).json()  # noqa: E731
    assert get(jordan) != get(alex)


@pytest.mark.parametrize("header", [None, "Bearer not-a-jwt", "Basic abc"])
def test_api_without_a_valid_bearer_token_is_401_with_a_challenge(
    provider: LiveProvider, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    response = provider.http.get(f"{provider.url}/api/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer ")
    assert response.json()["error"] == "invalid_token"


def test_expired_access_token_is_refused_by_the_api(provider: LiveProvider) -> None:
    client = provider.client(access_token_ttl_s=1)
    tokens = client.tokens()
    assert tokens["expires_in"] == 1
    time.sleep(2.1)
    response = provider.http.get(f"{provider.url}/api/me", headers=_bearer(tokens["access_token"]))
    assert response.status_code == 401
    assert provider.introspect(tokens["access_token"])["status"] == "expired"
    fresh = client.refresh(tokens["refresh_token"]).json()
    assert (
        provider.http.get(
            f"{provider.url}/api/me", headers=_bearer(fresh["access_token"])
        ).status_code
        == 200
    )


def test_state_file_keeps_clients_grants_and_keys_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "provider.json"
    first = start_provider(state_path=path)
    try:
        client = first.client()
        tokens = client.tokens()
        rotated = client.refresh(tokens["refresh_token"]).json()
    finally:
        first.stop()
    text = path.read_text()
    assert rotated["refresh_token"] not in text and client.client_secret not in text
    assert path.stat().st_mode & 0o077 == 0
    second = start_provider(state_path=path)
    try:
        client.provider = second
        refreshed = client.refresh(rotated["refresh_token"])
        assert refreshed.status_code == 200
        reuse = client.refresh(tokens["refresh_token"])
        assert reuse.json()["error"] == "invalid_grant"
    finally:
        second.stop()
