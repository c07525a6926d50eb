"""Token endpoints: fetch (with refresh), status list, revoke-and-delete, uploads."""

from __future__ import annotations

import secrets
import time
from typing import Any

import httpx
from sqlalchemy import update

from broker.store.outbound import ManagedTokenRow
from tests.support.identity import SignedInUser, sign_in_new_user
from tests.support.outbound import connect, create_demo_app, fetch_latest
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker


def _connected(
    live: LiveBroker, provider: LiveProvider, **app: Any
) -> tuple[str, SignedInUser, dict[str, str]]:
    app_id = f"acme-{secrets.token_hex(4)}"
    create_demo_app(live, provider, app_id, **app)
    user = sign_in_new_user(live)
    return app_id, user, connect(live, user, app_id)


def _expire(live: LiveBroker, token_id: str) -> None:
    with live.broker.db.session() as s:
        s.execute(
            update(ManagedTokenRow)
            .where(ManagedTokenRow.id == token_id)
            .values(access_token_expiry=int(time.time()) - 5)
        )


def _post(live: LiveBroker, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{live.url}{path}", headers=live.mgmt_headers(), json=body)


def test_fetch_of_an_expired_token_refreshes_it_first(
    live_broker: LiveBroker, provider: LiveProvider
) -> None:
    app_id, user, outcome = _connected(live_broker, provider)
    before = fetch_latest(live_broker, app_id, user.user_id, withRefreshToken=True).json()["token"]
    _expire(live_broker, outcome["tokenId"])
    after = fetch_latest(live_broker, app_id, user.user_id, withRefreshToken=True).json()["token"]
    assert after["accessToken"] != before["accessToken"]
    assert int(after["accessTokenExpiry"]) > time.time()
    assert after["lastRefreshTime"] and after["lastRefreshError"] == ""
    # The demo provider rotates: the new refresh token is stored, the old one is dead.
    assert after["refreshToken"] != before["refreshToken"]
    assert provider.introspect(before["refreshToken"])["status"] == "rotated"
    assert provider.introspect(after["refreshToken"])["active"] is True


def test_non_rotating_refresh_keeps_the_refresh_token(
    live_broker: LiveBroker, provider: LiveProvider
) -> None:
    app_id, user, _ = _connected(live_broker, provider)
    before = fetch_latest(live_broker, app_id, user.user_id, withRefreshToken=True).json()["token"]
    provider.set_faults(no_refresh_token=True)
    after = fetch_latest(
        live_broker, app_id, user.user_id, withRefreshToken=True, forceRefresh=True
    ).json()["token"]
    assert after["accessToken"] != before["accessToken"]
    assert after["refreshToken"] == before["refreshToken"] and after["hasRefreshToken"] is True


def test_permanent_refresh_error_needs_reauthorization_and_stops_calling_the_provider(
    live_broker: LiveBroker, provider: LiveProvider
) -> None:
    app_id, user, outcome = _connected(live_broker, provider)
    provider.set_faults(refresh_error="invalid_grant")
    _expire(live_broker, outcome["tokenId"])
    first = fetch_latest(live_broker, app_id, user.user_id)
    assert first.status_code == 404 and first.json()["errorCode"] == "E111505"
    calls = provider.stats()["token_calls"].get("refresh_token", 0)
    again = fetch_latest(live_broker, app_id, user.user_id, forceRefresh=True)
    assert again.status_code == 404
    assert provider.stats()["token_calls"].get("refresh_token", 0) == calls
    listed = httpx.get(
        f"{live_broker.url}/v1/mgmt/outbound/apps-with-user-token",
        headers=live_broker.mgmt_headers(),
        params={"userId": user.user_id},
    )
    assert app_id not in listed.json()["appIds"]


def test_transient_refresh_error_keeps_a_still_valid_token(
    live_broker: LiveBroker, provider: LiveProvider
) -> None:
    app_id, user, _ = _connected(live_broker, provider)
    provider.set_faults(token_status=503)
    response = fetch_latest(live_broker, app_id, user.user_id, forceRefresh=True)
    assert response.status_code == 200
    token = response.json()["token"]
    assert token["lastRefreshError"] and token["status"] == "refresh_failed"
    assert token["failureCount"] == 1


def test_transient_refresh_error_never_returns_an_expired_token(
    live_broker: LiveBroker, provider: LiveProvider
) -> None:
    app_id, user, outcome = _connected(live_broker, provider)
    provider.set_faults(token_status=503)
    _expire(live_broker, outcome["tokenId"])
    response = fetch_latest(live_broker, app_id, user.user_id)
    assert response.status_code == 502 and response.json()["errorCode"] == "E111506"
    provider.reset_faults()
    healed = fetch_latest(live_broker, app_id, user.user_id).json()["token"]
    assert healed["status"] == "active" and int(healed["accessTokenExpiry"]) > time.time()


def test_missing_expires_in_assumes_the_template_default(
    live_broker: LiveBroker, provider: LiveProvider
) -> None:
    provider.set_faults(omit_expires_in=True)
    app_id, user, _ = _connected(live_broker, provider)
    token = fetch_latest(live_broker, app_id, user.user_id).json()["token"]
    assert token["expiryAssumed"] is True
    assert abs(int(token["accessTokenExpiry"]) - (time.time() + 3600)) < 60


def test_post_client_auth_from_the_template(
    live_broker: LiveBroker, provider: LiveProvider
) -> None:
    overrides = {
        "authorizationUrl": f"{provider.url}/oauth/authorize",
        "tokenUrl": f"{provider.url}/oauth/token",
        "revocationUrl": f"{provider.url}/oauth/revoke",
        "discoveryUrl": None,
        "defaultScopes": ["profile", "offline_access"],
    }
    app_id, user, outcome = _connected(
        live_broker,
        provider,
        template_id="salesforce",
        auth_method="client_secret_post",
        overrides=overrides,
    )
    assert outcome["outbound"] == "connected"
    refreshed = fetch_latest(live_broker, app_id, user.user_id, forceRefresh=True).json()["token"]
    assert refreshed["lastRefreshTime"]


def test_basic_client_auth_from_provider_metadata(
    live_broker: LiveBroker, provider: LiveProvider
) -> None:
    app_id = f"custom-{secrets.token_hex(4)}"
    provider.register_client(
        app_id,
        "custom-secret-0123456789",
        [live_broker.url + "/v1/outbound/oauth/callback"],
        "client_secret_basic",
    )
    created = _post(
        live_broker,
        "/v1/mgmt/outbound/app/create",
        {"id": app_id, "name": app_id, "clientId": app_id, "clientSecret": "custom-secret-0123456789",
         "discoveryUrl": f"{provider.url}/.well-known/oauth-authorization-server",
         "defaultScopes": ["profile", "offline_access"]},
    )  # fmt: skip
    assert created.status_code == 200, created.text
    user = sign_in_new_user(live_broker)
    assert connect(live_broker, user, app_id)["outbound"] == "connected"


def test_fetch_by_scopes_needs_a_token_holding_all_of_them(
    live_broker: LiveBroker, provider: LiveProvider
) -> None:
    app_id, user, _ = _connected(live_broker, provider)
    body = {"appId": app_id, "userId": user.user_id, "options": None, "tenantId": None}
    held = _post(
        live_broker, "/v1/mgmt/outbound/app/user/token", {**body, "scopes": ["profile", "email"]}
    )
    assert held.status_code == 200
    missing = _post(
        live_broker, "/v1/mgmt/outbound/app/user/token", {**body, "scopes": ["calendar.write"]}
    )
    assert missing.status_code == 404 and missing.json()["errorCode"] == "E111504"
    nobody = _post(
        live_broker, "/v1/mgmt/outbound/app/user/token/latest", {**body, "userId": "U-nobody"}
    )
    assert nobody.status_code == 404 and nobody.json()["errorCode"] == "E111504"


def test_a_user_may_only_list_their_own_connections(
    live_broker: LiveBroker, provider: LiveProvider
) -> None:
    app_id, user, _ = _connected(live_broker, provider)
    url = f"{live_broker.url}/v1/mgmt/outbound/apps-with-user-token"
    own = httpx.get(
        url, headers=live_broker.user_headers(user.refresh_jwt), params={"userId": user.user_id}
    )
    assert own.status_code == 200 and app_id in own.json()["appIds"]
    other = sign_in_new_user(live_broker)
    refused = httpx.get(
        url, headers=live_broker.user_headers(other.refresh_jwt), params={"userId": user.user_id}
    )
    assert refused.status_code == 403
    tenant = httpx.get(
        url, headers=live_broker.mgmt_headers(), params={"userId": user.user_id, "tenantId": "T1"}
    )
    assert tenant.json()["appIds"] == []


def test_delete_token_revokes_both_tokens_at_the_provider(
    live_broker: LiveBroker, provider: LiveProvider
) -> None:
    app_id, user, outcome = _connected(live_broker, provider)
    token = fetch_latest(live_broker, app_id, user.user_id, withRefreshToken=True).json()["token"]
    response = httpx.delete(
        f"{live_broker.url}/v1/mgmt/outbound/token",
        headers=live_broker.mgmt_headers(),
        params={"id": outcome["tokenId"]},
    )
    assert response.status_code == 200
    assert response.json()["revocations"] == [
        {"id": outcome["tokenId"], "accessToken": "revoked", "refreshToken": "revoked"}
    ]
    assert provider.introspect(token["accessToken"])["active"] is False
    assert provider.introspect(token["refreshToken"])["active"] is False
    assert fetch_latest(live_broker, app_id, user.user_id).status_code == 404
    again = httpx.delete(
        f"{live_broker.url}/v1/mgmt/outbound/token",
        headers=live_broker.mgmt_headers(),
        params={"id": outcome["tokenId"]},
    )
    assert again.status_code == 404


def test_delete_user_tokens_treats_undefined_as_absent(
    live_broker: LiveBroker, provider: LiveProvider
) -> None:
    app_id, user, _ = _connected(live_broker, provider)
    url = f"{live_broker.url}/v1/mgmt/outbound/user/tokens"
    none = httpx.delete(url, headers=live_broker.mgmt_headers(), params={"appId": "undefined"})
    assert none.status_code == 400
    done = httpx.delete(
        url,
        headers=live_broker.mgmt_headers(),
        params={"appId": "undefined", "userId": user.user_id},
    )
    assert done.status_code == 200 and len(done.json()["revocations"]) == 1
    assert fetch_latest(live_broker, app_id, user.user_id).status_code == 404


def test_api_key_upload_is_fetched_and_never_refreshed(
    live_broker: LiveBroker, provider: LiveProvider
) -> None:
    app_id = f"keys-{secrets.token_hex(4)}"
    create_demo_app(live_broker, provider, app_id)
    assert (
        _post(
            live_broker,
            "/v1/mgmt/outbound/app/tenant/apikey/upload",
            {"appId": app_id, "tenantId": "T9", "apiKey": "key-abc"},
        ).json()
        == {}
    )
    token = _post(
        live_broker,
        "/v1/mgmt/outbound/app/tenant/token/latest",
        {"appId": app_id, "tenantId": "T9", "options": {"forceRefresh": True}},
    )
    assert token.status_code == 200
    assert (
        token.json()["token"]["accessToken"] == "key-abc"
        and token.json()["token"]["tokenKind"] == "apikey"
    )
    assert provider.stats()["token_calls"].get("refresh_token", 0) == 0


def test_uploaded_refresh_token_is_used_on_first_fetch(
    live_broker: LiveBroker, provider: LiveProvider
) -> None:
    app_id = f"mig-{secrets.token_hex(4)}"
    create_demo_app(live_broker, provider, app_id)
    issued = provider.client(
        app_id,
        "demo-client-secret-for-tests-0123456789",
        redirect_uri=live_broker.url + "/v1/outbound/oauth/callback",
    ).tokens()
    upload = _post(
        live_broker,
        "/v1/mgmt/outbound/app/user/oauthtoken/upload",
        {
            "appId": app_id,
            "userId": "U-mig",
            "refreshToken": issued["refresh_token"],
            "scopes": ["profile"],
        },
    )
    assert upload.status_code == 200, upload.text
    token = fetch_latest(live_broker, app_id, "U-mig").json()["token"]
    assert token["accessToken"] and int(token["accessTokenExpiry"]) > time.time()


def test_batch_upload_is_all_or_nothing(live_broker: LiveBroker, provider: LiveProvider) -> None:
    app_id = f"batch-{secrets.token_hex(4)}"
    create_demo_app(live_broker, provider, app_id)
    good = {
        "appId": app_id,
        "userId": "U-b1",
        "accessToken": "at-1",
        "accessTokenExpiry": int(time.time()) + 600,
    }
    bad = {"appId": app_id, "userId": "U-b2"}
    failed = _post(
        live_broker, "/v1/mgmt/outbound/app/user/oauthtoken/batch/upload", {"tokens": [good, bad]}
    )
    assert failed.status_code == 200
    assert failed.json()["failures"] == [
        {
            "appId": app_id,
            "userId": "U-b2",
            "errorCode": "E011002",
            "reason": "accessToken or refreshToken is required",
        }
    ]
    assert fetch_latest(live_broker, app_id, "U-b1").status_code == 404
    stored = _post(
        live_broker, "/v1/mgmt/outbound/app/user/oauthtoken/batch/upload", {"tokens": [good]}
    )
    assert stored.json() == {"failures": []}
    assert fetch_latest(live_broker, app_id, "U-b1").json()["token"]["accessToken"] == "at-1"


def test_an_owner_with_several_accounts_gets_the_newest_holding_the_scopes(
    live_broker: LiveBroker, provider: LiveProvider
) -> None:
    """One user, two provider accounts (external identifiers): "latest" is the newest upload,
    "by scopes" the newest holding them, an external identifier picks its own; the same
    through the fast path and through the stack (an ``Origin`` sends a request there)."""
    app_id = f"acme-{secrets.token_hex(4)}"
    create_demo_app(live_broker, provider, app_id)
    user_id = f"U-accounts-{secrets.token_hex(3)}"
    expiry = int(time.time()) + 3600

    def upload(account: str, scopes: list[str]) -> None:
        r = _post(
            live_broker,
            "/v1/mgmt/outbound/app/user/oauthtoken/upload",
            {"appId": app_id, "userId": user_id, "externalIdentifier": account,
             "accessToken": f"{account}-{len(scopes)}", "accessTokenExpiry": expiry,
             "scopes": scopes},
        )  # fmt: skip
        assert r.status_code == 200, r.text
        time.sleep(0.01)  # distinct update times

    def access(path: str, **body: Any) -> list[str]:
        answers = []
        for extra in ({}, {"Origin": "https://x.example"}):
            r = httpx.post(
                f"{live_broker.url}{path}",
                headers={**live_broker.mgmt_headers(), **extra},
                json={"appId": app_id, "userId": user_id, **body},
            )
            assert r.status_code == 200, r.text
            answers.append(r.json()["token"]["accessToken"])
        return answers

    latest, by_scopes = (
        "/v1/mgmt/outbound/app/user/token/latest",
        "/v1/mgmt/outbound/app/user/token",
    )
    upload("acct-a", ["read"])
    upload("acct-b", ["read", "write"])
    assert access(latest) == ["acct-b-2"] * 2
    upload("acct-a", ["read", "admin", "x"])  # acct-a is now the newest
    assert access(latest) == ["acct-a-3"] * 2
    assert access(by_scopes, scopes=["write"]) == ["acct-b-2"] * 2
    assert access(by_scopes, scopes=["read"]) == ["acct-a-3"] * 2
    assert access(latest, externalIdentifier="acct-b") == ["acct-b-2"] * 2
