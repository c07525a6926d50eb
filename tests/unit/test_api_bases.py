"""Where proxied calls may go: API base URLs made concrete per app, and matched strictly."""

from __future__ import annotations

import pytest

from broker.agents.api_bases import ApiBase, api_bases
from broker.store.outbound import OutboundAppRow


def _app(template_id: str, token_url: str) -> OutboundAppRow:
    return OutboundAppRow(id="a", name="a", template_id=template_id, token_url=token_url)


@pytest.mark.parametrize(
    ("url", "admitted"),
    [
        ("http://127.0.0.1:8788/api", True),
        ("http://127.0.0.1:8788/api/me?x=1", True),
        ("http://127.0.0.1:8788/apix", False),
        ("http://127.0.0.1:8788/oauth/token", False),
        ("http://127.0.0.1:8789/api/me", False),
        ("https://127.0.0.1:8788/api/me", False),
        ("http://localhost:8788/api/me", False),
        ("http://user@127.0.0.1:8788/api/me", False),
    ],
)
def test_a_base_admits_only_its_own_origin_and_path(url: str, admitted: bool) -> None:
    assert ApiBase.parse("http://127.0.0.1:8788/api").admits(url) is admitted


def test_a_wildcard_base_admits_subdomains_only() -> None:
    base = ApiBase.parse("https://*.my.salesforce.com")
    assert base.admits("https://acme.my.salesforce.com/services/data")
    assert not base.admits("https://my.salesforce.com/")
    assert not base.admits("https://acme.my.salesforce.com.evil.example/")
    assert not base.admits("https://evilmy.salesforce.com/")


def test_relative_bases_follow_the_apps_provider() -> None:
    [base] = api_bases(_app("demo", "http://127.0.0.1:9999/oauth/token"))
    assert base.url() == "http://127.0.0.1:9999/api"


def test_placeholders_are_read_back_from_the_apps_token_url() -> None:
    [base] = api_bases(_app("zendesk", "https://acme.zendesk.com/oauth/tokens"))
    assert base.url() == "https://acme.zendesk.com/api"
    assert api_bases(_app("zendesk", "https://evil.example/oauth/tokens")) == []


def test_an_app_without_a_catalog_entry_may_reach_nothing() -> None:
    assert api_bases(_app("", "https://idp.example/token")) == []
