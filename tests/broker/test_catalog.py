"""The provider catalog: every template is complete, consistent and readable over the API."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import httpx
import pytest

from broker.errors import InvalidArguments
from broker.providers.catalog import load_catalog
from broker.providers.quirks import ProviderQuirks
from tests.support.identity import sign_in_new_user
from tests.support.servers import LiveBroker

REQUIRED = {
    "google", "google-calendar", "github", "slack", "microsoft", "salesforce", "hubspot",
    "notion", "zoom", "dropbox", "atlassian", "linkedin", "linear", "asana", "box", "gitlab",
    "discord", "spotify", "zendesk", "airtable", "demo",
    "slack-user", "salesforce-sandbox", "xero", "quickbooks",
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


@pytest.mark.parametrize("template_id", sorted(CATALOG))
def test_every_template_names_its_source_and_its_quirks_are_well_formed(template_id: str) -> None:
    t = CATALOG[template_id]
    # The provider's own documentation page (the demo points at its source in this repo).
    if t.relative:
        assert t.source.startswith("broker/demo_provider/")
    else:
        assert urlsplit(t.source).scheme == "https" and urlsplit(t.source).hostname, t.source
    # Defaults (where given) are valid values, and the endpoints they make pass the URL rules.
    if set(t.variable_defaults) == set(t.variables):
        made = t.endpoints(base_url="http://127.0.0.1:8788" if t.relative else "")
        assert all("{" not in url for url in made.values())
    assert set(t.variable_defaults) <= set(t.variables)
    assert t.scope_param in {"scope", "user_scope"}
    if t.test_body:
        json.loads(t.test_body)  # every test body is JSON
        assert t.test_method == "POST" and t.test_headers["Content-Type"] == "application/json"
    assert all(k and v and "\n" not in v for k, v in t.test_headers.items())
    q = t.quirks
    assert "" in q.token_paths  # the top level is always one of the places looked at
    assert not (q.permanent_errors & q.transient_errors)
    assert all(path and " " not in path for path in q.metadata.values())
    assert q.introspection_path == "" or q.introspection_path.startswith("/")
    if q.ok_field:  # answers errors as HTTP 200: its codes must be classified
        assert q.permanent_errors and q.transient_errors


# Entries whose provider departs from the RFCs in a way the broker must know (issue 21).
QUIRKY = {
    "slack": "ok_field",
    "slack-user": "token_paths",
    "salesforce": "introspection_path",
    "salesforce-sandbox": "introspection_path",
    "notion": "token_body",
    "quickbooks": "callback_params",
    "microsoft": "metadata",
}


@pytest.mark.parametrize("template_id", sorted(QUIRKY))
def test_quirky_providers_carry_their_quirk(template_id: str) -> None:
    quirks = CATALOG[template_id].quirks
    assert getattr(quirks, QUIRKY[template_id]) != getattr(ProviderQuirks(), QUIRKY[template_id])


def test_entries_brought_up_to_date() -> None:
    notion = CATALOG["notion"]
    assert notion.revocation_url == "https://api.notion.com/v1/oauth/revoke"
    assert notion.quirks.token_body == notion.quirks.revocation_body == "json"
    assert "Notion-Version" in notion.test_headers and notion.rotates_refresh_tokens
    assert CATALOG["asana"].default_scopes == ("default",)
    assert CATALOG["zoom"].scope_separator == " " and "Separator checked" in CATALOG["zoom"].notes
    assert CATALOG["microsoft"].variable_defaults == {"tenant": "common"}
    assert CATALOG["salesforce"].variable_defaults == {"instance": "login"}
    assert CATALOG["salesforce-sandbox"].variable_defaults == {"instance": "test"}
    assert CATALOG["quickbooks"].quirks.callback_params == ("realmId",)
    for post in ("dropbox", "linear", "slack"):
        assert CATALOG[post].test_method == "POST"


def test_metadata_never_names_a_secret() -> None:
    with pytest.raises(ValueError, match="secret"):
        ProviderQuirks.from_yaml({"metadata": {"refresh": "authed_user.refresh_token"}})
    with pytest.raises(ValueError, match="unknown quirks"):
        ProviderQuirks.from_yaml({"retry_forever": True})


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
    with pytest.raises(Exception, match="host label"):
        zendesk.endpoints(variables={"subdomain": "evil.com"})  # no dots in a subdomain
    with pytest.raises(Exception, match="needs variables"):
        zendesk.endpoints()


@pytest.mark.parametrize(
    "value", ["evil.com/x", "a@b", "x:443", "-acme", "acme.", "a..b", "a b", "%2e", "x?y", "x#y"]
)
def test_host_and_tenant_variables_refuse_what_changes_the_url(value: str) -> None:
    for template_id, name in (("salesforce", "instance"), ("microsoft", "tenant")):
        with pytest.raises(InvalidArguments, match="host name"):
            CATALOG[template_id].endpoints(variables={name: value})


def test_unknown_variables_are_refused() -> None:
    with pytest.raises(InvalidArguments, match="no variables"):
        CATALOG["google"].endpoints(variables={"tenant": "x"})


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
