"""Each catalog quirk against a stand-in that answers as the provider documents (issue 21).

The broker runs for real on loopback; apps are created from the real catalog entries, with only
the host moved to the stand-in (tests/support/standins.py), so the entry's own quirks apply.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from dashboard.descope.tokens import ManagedToken
from tests.support.identity import SignedInUser, sign_in_new_user
from tests.support.outbound import connect, fetch_latest, start_connect
from tests.support.servers import LiveBroker
from tests.support.standins import (
    MICROSOFT_OID,
    NOTION_WORKSPACE,
    REALM_ID,
    SALESFORCE_IDENTITY,
    SALESFORCE_INSTANCE,
    SLACK_TEAM,
    SLACK_USER_ID,
    StandIns,
    create_by_template,
    create_standin_app,
    running_standins,
)


@pytest.fixture(scope="module")
def standins() -> Iterator[StandIns]:
    with running_standins() as state:
        yield state


def _connected(
    live: LiveBroker, standins: StandIns, template_id: str
) -> tuple[str, SignedInUser, dict[str, Any]]:
    app_id = create_standin_app(live, standins, template_id)
    user = sign_in_new_user(live)
    outcome = connect(live, user, app_id)
    assert outcome["outbound"] == "connected", outcome
    fetched = fetch_latest(live, app_id, user.user_id)
    assert fetched.status_code == 200, fetched.text
    return app_id, user, fetched.json()["token"]


def test_salesforce_instance_url_is_kept_and_returned_with_an_introspected_expiry(
    live_broker: LiveBroker, standins: StandIns
) -> None:
    standins.salesforce_session_s = 900
    before = int(time.time())
    _, _, token = _connected(live_broker, standins, "salesforce")
    meta = token["providerMetadata"]
    assert meta["instance_url"] == SALESFORCE_INSTANCE
    assert meta["identity_url"] == SALESFORCE_IDENTITY
    assert "signature" not in meta and "access_token" not in str(meta)
    # No expires_in in the answer: the org's session timeout came from introspection.
    assert token["expiryAssumed"] is False
    assert before + 890 <= int(token["accessTokenExpiry"]) <= int(time.time()) + 900
    assert standins.calls_to("/services/oauth2/introspect")
    # The dashboard reads the extension from the broker's own answer (one wire, both ends).
    parsed = ManagedToken.from_api(token)
    assert parsed.provider_metadata is not None
    assert parsed.provider_metadata["instance_url"] == SALESFORCE_INSTANCE
    assert parsed.without_secrets().provider_metadata == parsed.provider_metadata


def test_salesforce_without_introspection_assumes_the_shortest_session_timeout(
    live_broker: LiveBroker, standins: StandIns
) -> None:
    standins.salesforce_session_s = 0  # introspection answers {"active": false}
    before = int(time.time())
    try:
        _, _, token = _connected(live_broker, standins, "salesforce")
    finally:
        standins.salesforce_session_s = 900
    # The shortest session timeout an org can set (15 minutes) is assumed, not 2 hours.
    assert token["expiryAssumed"] is True
    assert before + 900 <= int(token["accessTokenExpiry"]) <= int(time.time()) + 900


def test_salesforce_sandbox_and_my_domain_hosts_are_used(live_broker: LiveBroker) -> None:
    sandbox = create_by_template(live_broker, "salesforce-sandbox")
    assert sandbox.status_code == 200, sandbox.text
    app = sandbox.json()["app"]
    assert app["tokenUrl"] == "https://test.salesforce.com/services/oauth2/token"
    assert app["authorizationUrl"] == "https://test.salesforce.com/services/oauth2/authorize"
    user = sign_in_new_user(live_broker)
    started = start_connect(live_broker, user, app["id"])
    assert started.json()["url"].startswith(
        "https://test.salesforce.com/services/oauth2/authorize?"
    )

    my_domain = create_by_template(
        live_broker, "salesforce", variables={"instance": "acme--dev.sandbox.my"}
    )
    assert my_domain.status_code == 200, my_domain.text
    assert my_domain.json()["app"]["revocationUrl"] == (
        "https://acme--dev.sandbox.my.salesforce.com/services/oauth2/revoke"
    )
    production = create_by_template(live_broker, "salesforce")
    assert production.json()["app"]["tokenUrl"] == (
        "https://login.salesforce.com/services/oauth2/token"
    )
    for bad in ("evil.com/x", "a@b", "x.salesforce.com:443#"):
        refused = create_by_template(live_broker, "salesforce", variables={"instance": bad})
        assert refused.status_code == 400, (bad, refused.text)


def test_slack_user_token_is_stored_from_authed_user(
    live_broker: LiveBroker, standins: StandIns
) -> None:
    app_id = create_standin_app(live_broker, standins, "slack-user")
    user = sign_in_new_user(live_broker)
    url = start_connect(live_broker, user, app_id).json()["url"]
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["user_scope"] == "users:read,channels:read" and "scope" not in query
    assert connect(live_broker, user, app_id)["hasRefreshToken"] == "true"
    token = fetch_latest(live_broker, app_id, user.user_id).json()["token"]
    assert token["accessToken"].startswith("xoxe.xoxp-1-")
    assert token["scopes"] == ["users:read", "channels:read"]
    assert token["providerMetadata"]["authed_user_id"] == SLACK_USER_ID
    assert token["providerMetadata"]["team_id"] == SLACK_TEAM["id"]


def test_slack_invalid_refresh_token_needs_reauth_without_retry(
    live_broker: LiveBroker, standins: StandIns
) -> None:
    app_id, user, _ = _connected(live_broker, standins, "slack-user")
    refreshes = len(standins.calls_to("/api/oauth.v2.access"))
    standins.slack_refresh_error = "invalid_refresh_token"  # HTTP 200, {"ok": false, …}
    try:
        forced = fetch_latest(live_broker, app_id, user.user_id, forceRefresh=True)
        again = fetch_latest(live_broker, app_id, user.user_id, forceRefresh=True)
    finally:
        standins.slack_refresh_error = ""
    assert forced.status_code == 404 and forced.json()["errorCode"] == "E111505", forced.text
    assert again.status_code == 404 and again.json()["errorCode"] == "E111505"
    # One provider call: no ambiguous retry, and the dead grant is never tried again.
    assert len(standins.calls_to("/api/oauth.v2.access")) == refreshes + 1
    stored = live_broker.broker.db
    with stored.session() as s:
        from broker.store.outbound import ManagedTokenRow

        row = s.query(ManagedTokenRow).filter_by(app_id=app_id).one()
        assert row.status == "needs_reauth"
        assert "invalid_refresh_token" in row.last_refresh_error


def test_slack_failed_revoke_is_not_reported_as_revoked(
    live_broker: LiveBroker, standins: StandIns
) -> None:
    app_id, user, _ = _connected(live_broker, standins, "slack-user")
    standins.slack_revoke_error = "invalid_auth"
    try:
        deleted = httpx.delete(
            f"{live_broker.url}/v1/mgmt/outbound/user/tokens",
            headers=live_broker.mgmt_headers(),
            params={"appId": app_id, "userId": user.user_id},
        )
    finally:
        standins.slack_revoke_error = ""
    assert deleted.status_code == 200, deleted.text
    [outcome] = deleted.json()["revocations"]
    assert outcome["accessToken"] == "failed" and outcome["refreshToken"] == "failed"


def test_notion_revoke_is_called_on_disconnect(live_broker: LiveBroker, standins: StandIns) -> None:
    app_id, user, token = _connected(live_broker, standins, "notion")
    assert token["providerMetadata"]["workspace_id"] == NOTION_WORKSPACE
    exchange = standins.calls_to("/v1/oauth/token")[-1]
    assert exchange.json()["grant_type"] == "authorization_code"  # a JSON body, as documented
    refreshed = fetch_latest(live_broker, app_id, user.user_id, forceRefresh=True)
    assert refreshed.status_code == 200, refreshed.text
    refresh = standins.calls_to("/v1/oauth/token")[-1]
    assert refresh.json()["grant_type"] == "refresh_token" and refresh.headers["notion-version"]
    token = refreshed.json()["token"]
    assert token["providerMetadata"]["workspace_id"] == NOTION_WORKSPACE
    before = len(standins.calls_to("/v1/oauth/revoke"))
    deleted = httpx.delete(
        f"{live_broker.url}/v1/mgmt/outbound/user/tokens",
        headers=live_broker.mgmt_headers(),
        params={"appId": app_id, "userId": user.user_id},
    )
    [outcome] = deleted.json()["revocations"]
    assert outcome == {"id": token["id"], "accessToken": "revoked", "refreshToken": "revoked"}
    calls = standins.calls_to("/v1/oauth/revoke")[before:]
    assert token["accessToken"] in [c.json()["token"] for c in calls]
    assert all(c.headers["notion-version"] and c.headers["authorization"] for c in calls)


def test_quickbooks_realm_id_from_the_callback_is_kept(
    live_broker: LiveBroker, standins: StandIns
) -> None:
    _, _, token = _connected(live_broker, standins, "quickbooks")
    assert token["providerMetadata"] == {"realmId": REALM_ID}


def test_microsoft_single_tenant_authorize_url_is_built(live_broker: LiveBroker) -> None:
    tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    created = create_by_template(live_broker, "microsoft", variables={"tenant": tenant})
    assert created.status_code == 200, created.text
    app = created.json()["app"]
    user = sign_in_new_user(live_broker)
    url = start_connect(live_broker, user, app["id"]).json()["url"]
    assert url.startswith(f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize?")
    assert app["tokenUrl"] == f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
    common = create_by_template(live_broker, "microsoft").json()["app"]
    assert "/common/oauth2/v2.0/token" in common["tokenUrl"]  # today's behaviour by default
    by_domain = create_by_template(
        live_broker, "microsoft", variables={"tenant": "contoso.onmicrosoft.com"}
    )
    assert "/contoso.onmicrosoft.com/oauth2/" in by_domain.json()["app"]["authorizationUrl"]


def test_microsoft_tenant_and_object_ids_are_kept_from_the_id_token(
    live_broker: LiveBroker, standins: StandIns
) -> None:
    tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    base = f"{standins.url}/{tenant}/oauth2/v2.0"
    overrides = {"authorizationUrl": f"{base}/authorize", "tokenUrl": f"{base}/token"}
    created = create_by_template(
        live_broker, "microsoft", variables={"tenant": tenant}, overrides=overrides
    )
    assert created.status_code == 200, created.text
    user = sign_in_new_user(live_broker)
    assert connect(live_broker, user, created.json()["app"]["id"])["outbound"] == "connected"
    token = fetch_latest(live_broker, created.json()["app"]["id"], user.user_id).json()["token"]
    assert token["providerMetadata"] == {
        "tid": tenant,
        "oid": MICROSOFT_OID,
        "username": "dana@contoso.com",
    }
    assert token["tokenSub"] == "s-ms-1"
