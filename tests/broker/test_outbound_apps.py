"""Outbound apps over HTTP: wire quirks, templates, discovery, the SSRF policy, limits."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest

from tests.support.identity import sign_in_new_user
from tests.support.outbound import create_demo_app
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker


def _post(live: LiveBroker, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{live.url}{path}", headers=live.mgmt_headers(), json=body)


def _uid(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def test_create_accepts_explicit_nulls_and_both_url_param_shapes(live_broker: LiveBroker) -> None:
    name = _uid("Custom")
    response = _post(
        live_broker,
        "/v1/mgmt/outbound/app/create",
        {
            "name": name, "id": None, "description": None, "logo": None,
            "clientId": "cid", "clientSecret": "very-secret-value",
            "authorizationUrl": "https://auth.example.com/authorize",
            "authorizationUrlParams": [{"name": "audience", "value": "api"}],
            "tokenUrl": "https://auth.example.com/token",
            "tokenUrlParams": [{"key": "resource", "value": "r1"}],
            "defaultScopes": ["read"], "pkce": True, "accessType": "offline", "prompt": ["consent"],
        },
    )  # fmt: skip
    assert response.status_code == 200, response.text
    app = response.json()["app"]
    assert app["name"] == name and app["id"] and app["description"] == ""
    assert app["authorizationUrlParams"] == [{"key": "audience", "value": "api"}]
    assert app["tokenUrlParams"] == [{"key": "resource", "value": "r1"}]
    assert app["hasClientSecret"] is True
    assert "clientSecret" not in app and "very-secret-value" not in response.text


def test_update_replaces_fields_and_keeps_the_secret_when_absent(live_broker: LiveBroker) -> None:
    created = _post(
        live_broker,
        "/v1/mgmt/outbound/app/create",
        {"name": _uid("U"), "clientSecret": "s1", "description": "before"},
    )
    app_id = created.json()["app"]["id"]
    updated = _post(
        live_broker, "/v1/mgmt/outbound/app/update", {"app": {"id": app_id, "name": _uid("U2")}}
    )
    assert updated.status_code == 200
    assert updated.json()["app"]["description"] == ""
    assert updated.json()["app"]["hasClientSecret"] is True


def test_bytemplate_fills_endpoints_and_applies_overrides(live_broker: LiveBroker) -> None:
    app_id = _uid("google")
    response = _post(
        live_broker,
        "/v1/mgmt/outbound/app/create/bytemplate",
        {"templateId": "google", "id": app_id, "clientId": "gid", "clientSecret": "gsecret",
         "overrides": {"name": _uid("My Google"), "defaultScopes": ["openid", "email"]}},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    app = response.json()["app"]
    assert app["id"] == app_id and app["templateId"] == "google"
    assert app["tokenUrl"] == "https://oauth2.googleapis.com/token"
    assert app["revocationUrl"] == "https://oauth2.googleapis.com/revoke"
    assert app["defaultScopes"] == ["openid", "email"]
    assert app["accessType"] == "offline" and app["prompt"] == ["consent"]


def test_bytemplate_fills_url_variables_and_requires_them(live_broker: LiveBroker) -> None:
    ok = _post(
        live_broker,
        "/v1/mgmt/outbound/app/create/bytemplate",
        {"templateId": "zendesk", "id": _uid("zd"), "variables": {"subdomain": "acme"}},
    )
    assert ok.status_code == 200
    assert ok.json()["app"]["tokenUrl"] == "https://acme.zendesk.com/oauth/tokens"
    missing = _post(
        live_broker,
        "/v1/mgmt/outbound/app/create/bytemplate",
        {"templateId": "zendesk", "id": _uid("zd")},
    )
    assert missing.status_code == 400 and missing.json()["errorCode"] == "E011002"


def test_unknown_app_and_unknown_template_are_descope_404s(live_broker: LiveBroker) -> None:
    load = httpx.get(
        f"{live_broker.url}/v1/mgmt/outbound/app/nope", headers=live_broker.mgmt_headers()
    )
    assert load.status_code == 404
    assert set(load.json()) >= {"errorCode", "errorDescription", "errorMessage"}
    delete = _post(live_broker, "/v1/mgmt/outbound/app/delete", {"id": "nope"})
    assert delete.status_code == 404
    template = _post(live_broker, "/v1/mgmt/outbound/app/create/bytemplate", {"templateId": "nope"})
    assert template.status_code == 404


def test_duplicate_name_and_missing_name_are_refused(live_broker: LiveBroker) -> None:
    name = _uid("Dup")
    assert _post(live_broker, "/v1/mgmt/outbound/app/create", {"name": name}).status_code == 200
    assert _post(live_broker, "/v1/mgmt/outbound/app/create", {"name": name}).status_code == 400
    assert (
        _post(live_broker, "/v1/mgmt/outbound/app/create", {"description": "x"}).status_code == 400
    )


def test_discovery_url_resolves_endpoints_from_provider_metadata(
    live_broker: LiveBroker, provider: LiveProvider
) -> None:
    response = _post(
        live_broker,
        "/v1/mgmt/outbound/app/create",
        {
            "name": _uid("Discovered"),
            "discoveryUrl": f"{provider.url}/.well-known/oauth-authorization-server",
        },
    )
    assert response.status_code == 200, response.text
    app = response.json()["app"]
    assert app["authorizationUrl"] == f"{provider.url}/oauth/authorize"
    assert app["tokenUrl"] == f"{provider.url}/oauth/token"
    assert app["revocationUrl"] == f"{provider.url}/oauth/revoke"


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.8/token",
        "https://169.254.169.254/latest/meta-data",
        "https://192.168.1.1/token",
        "http://example.com/token",
        "ftp://127.0.0.1/token",
    ],
)
def test_private_link_local_and_plain_http_provider_urls_are_refused(
    live_broker: LiveBroker, url: str
) -> None:
    response = _post(
        live_broker, "/v1/mgmt/outbound/app/create", {"name": _uid("Ssrf"), "tokenUrl": url}
    )
    assert response.status_code == 400
    assert response.json()["errorCode"] == "E011004"


def test_oversized_body_is_413(live_broker: LiveBroker) -> None:
    big = "x" * (live_broker.broker.settings.max_body_bytes + 10)
    response = _post(
        live_broker, "/v1/mgmt/outbound/app/create", {"name": "big", "description": big}
    )
    assert response.status_code == 413
    assert response.json()["errorCode"] == "E011008"


def test_users_may_list_apps_but_not_manage_them(live_broker: LiveBroker) -> None:
    user = sign_in_new_user(live_broker)
    headers = live_broker.user_headers(user.refresh_jwt)
    listed = httpx.get(f"{live_broker.url}/v1/mgmt/outbound/apps", headers=headers)
    assert listed.status_code == 200 and isinstance(listed.json()["apps"], list)
    created = httpx.post(
        f"{live_broker.url}/v1/mgmt/outbound/app/create", headers=headers, json={"name": "x"}
    )
    assert created.status_code == 401


def test_deleting_an_app_deletes_its_tokens(
    live_broker: LiveBroker, provider: LiveProvider
) -> None:
    app_id = _uid("del")
    create_demo_app(live_broker, provider, app_id)
    upload = _post(
        live_broker,
        "/v1/mgmt/outbound/app/user/apikey/upload",
        {"appId": app_id, "userId": "U1", "apiKey": "k-123"},
    )
    assert upload.status_code == 200
    assert _post(live_broker, "/v1/mgmt/outbound/app/delete", {"id": app_id}).json() == {}
    from broker.store.outbound import ManagedTokenRow

    with live_broker.broker.db.session() as s:
        assert s.query(ManagedTokenRow).filter_by(app_id=app_id).count() == 0
