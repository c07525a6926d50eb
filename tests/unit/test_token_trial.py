""" "Try the token": the catalog's request made concrete for an app, and expired answers read."""

from __future__ import annotations

import pytest

from broker.providers.catalog import load_catalog
from dashboard.descope import CatalogTemplate, OutboundApp
from dashboard.inventory.trial import looks_expired, trial_request, variables_from

# The dashboard parses what the broker's catalog endpoint answers (one wire, both ends).
CATALOG = {k: CatalogTemplate.from_api(t.public()) for k, t in load_catalog().items()}


def _app(template_id: str, variables: dict[str, str] | None = None, base: str = "") -> OutboundApp:
    urls = load_catalog()[template_id].endpoints(base_url=base, variables=variables)
    return OutboundApp(
        id=template_id,
        name=template_id,
        template_id=template_id,
        authorization_url=urls["authorization_url"],
        token_url=urls["token_url"],
    )


def test_zendesk_subdomain_is_read_back_from_the_app() -> None:
    trial = trial_request(_app("zendesk", {"subdomain": "acme"}), CATALOG["zendesk"])
    assert trial is not None and trial.url == "https://acme.zendesk.com/api/v2/users/me.json"


def test_salesforce_host_follows_the_app_sandbox_or_my_domain() -> None:
    sandbox = trial_request(_app("salesforce-sandbox"), CATALOG["salesforce-sandbox"])
    assert sandbox is not None
    assert sandbox.url == "https://test.salesforce.com/services/oauth2/userinfo"
    assert sandbox.expired_codes == ("INVALID_SESSION_ID",)
    mine = trial_request(_app("salesforce", {"instance": "acme.my"}), CATALOG["salesforce"])
    assert mine is not None and mine.url.startswith("https://acme.my.salesforce.com/")


def test_method_headers_and_body_come_from_the_entry() -> None:
    linear = trial_request(_app("linear"), CATALOG["linear"])
    assert linear is not None and linear.method == "POST" and "viewer" in linear.body
    assert linear.headers == {"Content-Type": "application/json"}
    dropbox = trial_request(_app("dropbox"), CATALOG["dropbox"])
    assert dropbox is not None and (dropbox.method, dropbox.body) == ("POST", "null")
    notion = trial_request(_app("notion"), CATALOG["notion"])
    assert notion is not None and notion.headers["Notion-Version"]
    google = trial_request(_app("google"), CATALOG["google"])
    assert google is not None and (google.method, google.body, google.headers) == ("GET", "", {})


def test_relative_test_urls_join_the_app_and_unfillable_ones_give_no_request() -> None:
    demo = trial_request(_app("demo", base="http://127.0.0.1:9"), CATALOG["demo"])
    assert demo is not None and demo.url == "http://127.0.0.1:9/api/me"
    moved = OutboundApp(id="z", name="z", template_id="zendesk", token_url="https://x.test/t")
    assert trial_request(moved, CATALOG["zendesk"]) is None  # never a literal {subdomain}
    assert trial_request(None, CATALOG["google"]) is None


@pytest.mark.parametrize(
    ("pattern", "concrete", "values"),
    [
        ("https://{subdomain}.zendesk.com/t", "https://acme.zendesk.com/t", {"subdomain": "acme"}),
        ("https://{subdomain}.zendesk.com/t", "https://evil.test/?.zendesk.com/t", None),
        ("https://{subdomain}.zendesk.com/t", "https://a/b.zendesk.com/t", None),
        ("https://x.test/t", "https://x.test/t", {}),
    ],
)
def test_variables_are_read_back_only_as_host_characters(
    pattern: str, concrete: str, values: dict[str, str] | None
) -> None:
    assert variables_from(pattern, concrete) == values


def test_expired_answers_are_recognised_in_each_provider_shape() -> None:
    salesforce = '[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]'
    assert looks_expired(401, salesforce, ("INVALID_SESSION_ID",))
    assert looks_expired(200, '{"ok": false, "error": "token_expired"}', ("token_expired",))
    assert not looks_expired(200, '{"ok": true}', ("token_expired",))
    assert not looks_expired(403, '{"error": "insufficient_scope"}', ("token_expired",))
    assert not looks_expired(200, "not json", ("token_expired",))
