"""Descope's official Python SDK drives outbound apps and tokens on a live broker, unpatched."""

from __future__ import annotations

import secrets
import time
from typing import Any

import pytest
from descope import AuthException, DescopeClient
from descope.management.common import AccessType, PromptType, URLParam

from broker.area_settings import ConnectOptions
from tests.conftest import BACKENDS, STRICT
from tests.support.identity import sign_in_new_user
from tests.support.outbound import connect, create_demo_app
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker

# The SDK works against the broker on both backends and against its strict (cloud) surface.
pytestmark = pytest.mark.parametrize("live_broker", [*BACKENDS, STRICT], indirect=True)
# Descope's wire only: the SDK's connect, then the browser's redirect, and nothing else. A
# project whose apps speak only that wire switches the user verifier off (docs/security.md,
# "Connect binding"); the callback then stores the grant as Descope's cloud does.


@pytest.fixture(scope="module")
def broker_settings() -> dict[str, Any]:
    """Descope's wire only: the user verifier is off for this project."""
    return {"connect": ConnectOptions(confirmation=False)}


TOKEN_FIELDS = {
    "id": str, "appId": str, "userId": str, "tenantId": str, "tokenSub": str,
    "accessToken": str, "accessTokenType": str, "accessTokenExpiry": str,
    "hasRefreshToken": bool, "lastRefreshTime": str, "lastRefreshError": str,
    "scopes": list, "grantedBy": str, "externalIdentifier": str,
}  # fmt: skip


def test_app_crud_through_the_sdk(client: DescopeClient) -> None:
    apps = client.mgmt.outbound_application
    name = f"SDK app {secrets.token_hex(3)}"
    created = apps.create_application(
        name=name,
        description="made by the SDK",
        client_id="cid",
        client_secret="sdk-secret-value",
        authorization_url="https://auth.example.com/authorize",
        authorization_url_params=[URLParam("audience", "api")],
        token_url="https://auth.example.com/token",
        default_scopes=["read", "write"],
        pkce=True,
        access_type=AccessType.OFFLINE,
        prompt=[PromptType.CONSENT],
    )["app"]
    assert created["name"] == name and created["id"]
    assert created["authorizationUrlParams"] == [{"key": "audience", "value": "api"}]
    assert "clientSecret" not in created
    loaded = apps.load_application(created["id"])["app"]
    assert loaded["defaultScopes"] == ["read", "write"] and loaded["accessType"] == "offline"
    assert loaded["prompt"] == ["consent"]
    assert created["id"] in {a["id"] for a in apps.load_all_applications()["apps"]}
    updated = apps.update_application(created["id"], name, description="changed")["app"]
    assert updated["description"] == "changed" and updated["defaultScopes"] == []
    apps.delete_application(created["id"])
    with pytest.raises(AuthException) as err:
        apps.load_application(created["id"])
    assert err.value.status_code == 404


def test_connected_user_tokens_through_the_sdk(
    client: DescopeClient, live_broker: LiveBroker, provider: LiveProvider
) -> None:
    apps = client.mgmt.outbound_application
    app_id = f"acme-{secrets.token_hex(4)}"
    create_demo_app(live_broker, provider, app_id)
    user = sign_in_new_user(live_broker)
    outcome = connect(
        live_broker, user, app_id, ["profile", "email", "calendar.read", "offline_access"]
    )
    # Strict mode adds no parameter to the redirect: the token below proves the connect.
    assert outcome.get("outbound", "connected") == "connected"

    token = apps.fetch_token(app_id, user.user_id)["token"]
    for field, kind in TOKEN_FIELDS.items():
        assert isinstance(token[field], kind), field
    assert "refreshToken" not in token
    assert int(token["accessTokenExpiry"]) > time.time()
    assert token["accessTokenType"] == "Bearer" and token["hasRefreshToken"] is True
    assert token["userId"] == user.user_id and token["grantedBy"] == user.user_id

    with_refresh = apps.fetch_token(
        app_id, user.user_id, options={"withRefreshToken": True, "forceRefresh": True}
    )["token"]
    assert with_refresh["refreshToken"] and with_refresh["accessToken"] != token["accessToken"]
    assert with_refresh["lastRefreshTime"].isdigit()

    by_scopes = apps.fetch_token_by_scopes(app_id, user.user_id, ["calendar.read"])["token"]
    assert by_scopes["id"] == token["id"]
    with pytest.raises(AuthException) as err:
        apps.fetch_token_by_scopes(app_id, user.user_id, ["calendar.write"])
    assert err.value.status_code == 404 and "E111504" in str(err.value.error_message)

    assert apps.list_apps_with_user_token(user.user_id)["appIds"] == [app_id]
    apps.delete_user_tokens(app_id=app_id, user_id=user.user_id)
    assert apps.list_apps_with_user_token(user.user_id)["appIds"] == []
    with pytest.raises(AuthException):
        apps.fetch_token(app_id, user.user_id)


def test_uploads_through_the_sdk(
    client: DescopeClient, live_broker: LiveBroker, provider: LiveProvider
) -> None:
    apps = client.mgmt.outbound_application
    app_id = f"up-{secrets.token_hex(4)}"
    create_demo_app(live_broker, provider, app_id)
    apps.upload_user_api_key(app_id, "U-key", "key-123")
    assert apps.fetch_token(app_id, "U-key")["token"]["accessToken"] == "key-123"
    expiry = int(time.time()) + 900
    apps.upload_user_token(
        app_id,
        "U-tok",
        access_token="at-9",
        access_token_expiry=expiry,
        scopes=["profile"],
        granted_by="migration",
    )
    migrated = apps.fetch_token(app_id, "U-tok")["token"]
    assert migrated["accessTokenExpiry"] == str(expiry) and migrated["grantedBy"] == "migration"
    result = apps.batch_upload_tenant_tokens(
        [{"appId": app_id, "tenantId": "T-1", "accessToken": "at-t", "accessTokenExpiry": expiry}]
    )
    assert result == {"failures": []}
    assert apps.fetch_tenant_token(app_id, "T-1")["token"]["accessToken"] == "at-t"
    assert apps.fetch_tenant_token_by_scopes(app_id, "T-1", [])["token"]["tenantId"] == "T-1"
