"""The provider catalog: every template is complete, consistent and readable over the API."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest

from broker.outbound.catalog import load_catalog
from tests.support.identity import sign_in_new_user
from tests.support.servers import LiveBroker

REQUIRED = {
    "google", "google-calendar", "github", "slack", "microsoft", "salesforce", "hubspot",
    "notion", "zoom", "dropbox", "atlassian", "linkedin", "linear", "asana", "box", "gitlab",
    "discord", "spotify", "zendesk", "airtable", "demo",
}  # fmt: skip
CATALOG = load_catalog()


def test_catalog_has_the_required_providers() -> None:
    assert set(CATALOG) >= REQUIRED
    assert len([t for t in CATALOG.values() if not t.relative]) >= 20


@pytest.mark.parametrize("template_id", sorted(CATALOG))
def test_every_template_is_complete_and_consistent(template_id: str) -> None:
    t = CATALOG[template_id]
    assert t.name and t.description
    # Inline images: pages showing the catalog work offline and call no third party.
    assert t.logo.startswith("data:image/svg+xml;utf8,<svg")
    assert t.scope_separator in {" ", ","}
    assert t.client_auth in {"client_secret_basic", "client_secret_post"}
    assert t.default_expires_in >= 0
    assert t.keep_alive_days is None or t.keep_alive_days > 0
    assert t.test_url and t.test_method in {"GET", "POST"}
    if t.scopes_in_console:
        assert not t.scopes and not t.default_scopes
    else:
        assert t.scopes and t.default_scopes
        assert all(desc.strip() and "\n" not in desc for desc in t.scopes.values())
    assert set(t.default_scopes) <= set(t.scopes)
    urls = [
        u
        for u in (t.authorization_url, t.token_url, t.revocation_url, t.discovery_url, t.test_url)
        if u
    ]
    for url in urls:
        if t.relative:
            assert url.startswith("/")
        else:
            assert urlsplit(url).scheme == "https" and urlsplit(url).hostname, url
    placeholders = {p for u in urls for p in re.findall(r"\{([a-z_]+)\}", u)}
    assert placeholders == set(t.variables)


def test_google_asks_for_an_offline_grant_with_consent() -> None:
    for template_id in ("google", "google-calendar"):
        params = CATALOG[template_id].authorize_params
        assert params == {"access_type": "offline", "prompt": "consent"}


def test_demo_template_matches_the_demo_provider() -> None:
    demo = CATALOG["demo"]
    assert demo.relative
    assert set(demo.scopes) == {
        "profile",
        "email",
        "calendar.read",
        "calendar.write",
        "offline_access",
    }
    urls = demo.endpoints(base_url="http://127.0.0.1:8788")
    assert urls["token_url"] == "http://127.0.0.1:8788/oauth/token"
    assert urls["discovery_url"] == "http://127.0.0.1:8788/.well-known/oauth-authorization-server"


def test_template_variables_must_be_host_labels() -> None:
    zendesk = CATALOG["zendesk"]
    assert zendesk.endpoints(variables={"subdomain": "acme"})["token_url"] == (
        "https://acme.zendesk.com/oauth/tokens"
    )
    with pytest.raises(Exception, match="host label"):
        zendesk.endpoints(variables={"subdomain": "evil.com/x"})


def test_catalog_is_readable_over_the_api_by_users_and_management(live_broker: LiveBroker) -> None:
    user = sign_in_new_user(live_broker)
    for headers in (live_broker.mgmt_headers(), live_broker.user_headers(user.refresh_jwt)):
        response = httpx.get(f"{live_broker.url}/v1/x/outbound/catalog", headers=headers)
        assert response.status_code == 200
        by_id = {t["id"]: t for t in response.json()["templates"]}
        assert set(by_id) >= REQUIRED
        assert by_id["slack"]["scopeSeparator"] == ","
        assert {"name": "email", "description": by_id["demo"]["scopes"][1]["description"]} in by_id[
            "demo"
        ]["scopes"]
    assert httpx.get(f"{live_broker.url}/v1/x/outbound/catalog").status_code == 401


@pytest.mark.parametrize("template_id", sorted(CATALOG))
def test_every_template_declares_where_its_api_lives(template_id: str) -> None:
    t = CATALOG[template_id]
    assert t.api_base_urls, "the agent proxy needs at least one API base URL"
    for base in t.api_base_urls:
        parts = urlsplit(base)
        assert not parts.query and not parts.fragment and not base.endswith("/"), base
        if t.relative:
            assert base.startswith("/"), base
        else:
            assert parts.scheme == "https" and parts.hostname, base
    assert {p for b in t.api_base_urls for p in re.findall(r"\{([a-z_]+)\}", b)} <= set(t.variables)
    # The "try the token" URL is an API call: the proxy must admit it.
    assert t.test_url and any(
        re.sub(r"\{[a-z_]+\}", "x", t.test_url).startswith(
            re.sub(r"\{[a-z_]+\}", "x", b).replace("*.", "x.")
        )
        or "*." in b
        for b in t.api_base_urls
    ), t.test_url
