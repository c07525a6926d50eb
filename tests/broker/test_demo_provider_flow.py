"""Demo provider: metadata, the consent page, authorization code + PKCE, client authentication."""

from __future__ import annotations

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

from broker.demo_provider.consent_form import ConsentForm
from tests.support.provider import DemoClient, LiveProvider

SCOPE = "profile email calendar.read offline_access"


def _consent(client: DemoClient, scope: str = SCOPE) -> tuple[ConsentForm, str]:
    verifier = generate_token(48)
    page = client.authorize(client.authorize_params(scope, verifier, state="xyz"))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    return ConsentForm(page.text), verifier


def _post_form(client: DemoClient, form: ConsentForm, **fields: object) -> httpx.Response:
    data = {
        **form.fields,
        "grant_scope": form.scopes,  # every box as the page ticks them
        "password": "demo",
        "decision": "approve",
        **fields,
    }
    return client.provider.http.post(f"{client.provider.url}{form.action}", data=data)


def test_metadata_is_valid_rfc8414_under_both_well_known_names(provider: LiveProvider) -> None:
    for name in ("oauth-authorization-server", "openid-configuration"):
        meta = provider.http.get(f"{provider.url}/.well-known/{name}").json()
        AuthorizationServerMetadata(meta).validate()
        assert meta["issuer"] == provider.url
        assert meta["authorization_endpoint"] == f"{provider.url}/oauth/authorize"
        assert meta["token_endpoint"] == f"{provider.url}/oauth/token"
        assert meta["revocation_endpoint"] == f"{provider.url}/oauth/revoke"
        assert meta["introspection_endpoint"] == f"{provider.url}/oauth/introspect"
        assert meta["code_challenge_methods_supported"] == ["S256"]
        assert set(meta["token_endpoint_auth_methods_supported"]) == {
            "client_secret_basic",
            "client_secret_post",
        }
        assert {"profile", "email", "calendar.read"} <= set(meta["scopes_supported"])
        assert set(meta["grant_types_supported"]) == {"authorization_code", "refresh_token"}
        assert meta["authorization_response_iss_parameter_supported"] is True  # RFC 9207


def test_consent_page_shows_demo_account_and_one_checkbox_per_scope(
    consent_provider: LiveProvider,
) -> None:
    client = consent_provider.client()
    verifier = generate_token(48)
    page = client.authorize(client.authorize_params(SCOPE, verifier))
    assert "alex@acme.test" in page.text and "demo" in page.text
    assert "<link" not in page.text and "<script" not in page.text  # self-contained
    assert ConsentForm(page.text).scopes == SCOPE.split()


def test_consent_form_approval_redirects_with_code_that_exchanges_for_tokens(
    consent_provider: LiveProvider,
) -> None:
    client = consent_provider.client()
    form, verifier = _consent(client)
    answer = _post_form(client, form, email="sam@acme.test")
    assert answer.status_code == 302
    location = httpx.URL(answer.headers["location"])
    assert str(location).startswith(client.redirect_uri)
    assert location.params["state"] == "xyz"
    assert location.params["iss"] == consent_provider.url  # RFC 9207 §2
    tokens = client.exchange(location.params["code"], verifier).json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["scope"] == SCOPE
    assert tokens["expires_in"] == 3600
    me = consent_provider.http.get(
        f"{consent_provider.url}/api/me",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert me.json()["email"] == "sam@acme.test"


def test_unticked_scopes_are_not_granted(consent_provider: LiveProvider) -> None:
    client = consent_provider.client()
    form, verifier = _consent(client)
    answer = _post_form(client, form, grant_scope=["profile", "calendar.read"])
    code = httpx.URL(answer.headers["location"]).params["code"]
    assert client.exchange(code, verifier).json()["scope"] == "profile calendar.read"


def test_deny_sends_access_denied_to_the_client(consent_provider: LiveProvider) -> None:
    client = consent_provider.client()
    form, _ = _consent(client)
    answer = _post_form(client, form, decision="deny")
    assert answer.status_code == 302
    params = httpx.URL(answer.headers["location"]).params
    assert params["error"] == "access_denied"
    assert params["state"] == "xyz" and params["iss"] == consent_provider.url
    assert "code" not in params
    assert consent_provider.stats()["denials"] == 1


def test_wrong_password_shows_the_form_again_without_a_code(
    consent_provider: LiveProvider,
) -> None:
    client = consent_provider.client()
    form, _ = _consent(client)
    answer = _post_form(client, form, password="nope")
    assert answer.status_code == 401
    assert "do not match" in answer.text
    assert "location" not in answer.headers


def test_auto_approve_redirects_straight_back_with_a_code(provider: LiveProvider) -> None:
    client = provider.client()
    verifier = generate_token(48)
    answer = client.authorize(client.authorize_params("profile", verifier))
    assert answer.status_code == 302
    assert "code" in httpx.URL(answer.headers["location"]).params


def test_unknown_redirect_uri_gets_an_error_page_not_a_redirect(provider: LiveProvider) -> None:
    client = provider.client()
    params = client.authorize_params("profile", generate_token(48))
    params["redirect_uri"] = "http://evil.example/cb"
    answer = client.authorize(params)
    assert answer.status_code == 400
    assert "location" not in answer.headers
    assert "not valid" in answer.text


def test_unknown_scope_is_sent_back_as_invalid_scope(provider: LiveProvider) -> None:
    client = provider.client()
    answer = client.authorize(client.authorize_params("profile admin.all", generate_token(48)))
    assert httpx.URL(answer.headers["location"]).params["error"] == "invalid_scope"


@pytest.mark.parametrize("method", [None, "plain"])
def test_authorization_without_s256_challenge_is_refused(
    provider: LiveProvider, method: str | None
) -> None:
    client = provider.client()
    params = client.authorize_params("profile", generate_token(48))
    if method is None:
        del params["code_challenge"], params["code_challenge_method"]
    else:
        params["code_challenge_method"] = method
    answer = client.authorize(params)
    location = httpx.URL(answer.headers["location"])
    assert location.params["error"] == "invalid_request"
    assert "code" not in location.params


def test_code_exchange_needs_the_matching_pkce_verifier(provider: LiveProvider) -> None:
    client = provider.client()
    code, verifier = client.code()
    missing = client.token_request(
        grant_type="authorization_code", code=code, redirect_uri=client.redirect_uri
    )
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_request"
    wrong = client.exchange(code, generate_token(48))
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    assert client.exchange(code, verifier).status_code == 200


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_confidential_client_authenticates_with_basic_or_post(
    provider: LiveProvider, method: str
) -> None:
    client = provider.client()
    client.auth_method = method
    assert "access_token" in client.tokens()


def test_registered_auth_method_is_enforced(provider: LiveProvider) -> None:
    client = provider.client(auth_method="client_secret_post")
    client.auth_method = "client_secret_basic"
    code, verifier = client.code()
    refused = client.exchange(code, verifier)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"


def test_wrong_client_secret_is_invalid_client(provider: LiveProvider) -> None:
    client = provider.client()
    code, verifier = client.code()
    client.client_secret = "not-the-secret"
    refused = client.exchange(code, verifier)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"


def test_public_client_uses_pkce_without_a_secret(provider: LiveProvider) -> None:
    client = provider.client("public-app", client_secret=None)
    assert client.auth_method == "none"
    assert "refresh_token" in client.tokens()


def test_a_code_works_once_and_its_replay_revokes_the_tokens(provider: LiveProvider) -> None:
    client = provider.client()
    code, verifier = client.code()
    tokens = client.exchange(code, verifier).json()
    replay = client.exchange(code, verifier)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert provider.introspect(tokens["refresh_token"])["status"] == "revoked"
    assert provider.introspect(tokens["access_token"])["active"] is False


def test_client_registration_is_idempotent(provider: LiveProvider) -> None:
    first = provider.register_client("app", "secret-1", ["http://127.0.0.1:9/cb"])
    second = provider.register_client("app", "secret-2", ["http://127.0.0.1:9/cb2"])
    assert first["created"] is True and second["created"] is False
    assert second["redirect_uris"] == ["http://127.0.0.1:9/cb2"]
    client = DemoClient(provider, "app", "secret-2", "http://127.0.0.1:9/cb2")
    assert "access_token" in client.tokens()
