"""The whole connect journey in Debian's chromium: broker, demo provider and dashboard for real.

Sign in → pick a non-default scope set → follow the authorization link → approve on the demo
provider's consent page (one scope unticked) → the landing page shows granted against
requested → the apps page (the tab that started) shows the connection by itself → disconnect →
not connected, and the provider reports the token revoked. With ``OUTBOUND_SCREENSHOTS`` set to
a folder (``docs/screenshots``), each page is saved there for the README.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from dashboard.frame.remember import COOKIE_NAME
from tests.e2e.conftest import sign_in_through_the_form, wait_for_app
from tests.support.dashboard import RunningDashboard, create_user, is_strict
from tests.support.outbound import CLIENT_SECRET, consent_app_fixture
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker

pytestmark = pytest.mark.e2e
APP_ID = "acme-cal"

acme = consent_app_fixture(APP_ID)


def snapshot(page: Page, name: str) -> None:
    """Save a full-page screenshot (journey-<name>.png) when OUTBOUND_SCREENSHOTS names a folder
    (of the embedded broker's run: the strict run would overwrite it)."""
    folder = os.environ.get("OUTBOUND_SCREENSHOTS")
    if folder and "[local]" in os.environ.get("PYTEST_CURRENT_TEST", ""):
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"journey-{name}.png"), full_page=True)


def no_secret_in(page: Page, *secrets: str) -> None:
    html = page.content()
    for secret in secrets:
        assert secret and secret not in html


def test_connect_choose_scopes_approve_land_and_disconnect(
    live: LiveBroker, acme: LiveProvider, dashboard: RunningDashboard, page: Page
) -> None:
    strict = is_strict(live)
    create_user(live, "journey@example.test", name="Journey Tester")
    page.goto(dashboard.url + "/")
    wait_for_app(page)
    sign_in_through_the_form(page, "journey@example.test")
    card = page.locator(f".st-key-apps__card__{APP_ID}")
    expect(card.get_by_text("Not connected")).to_be_visible()
    snapshot(page, "outbound-apps")

    card.get_by_role("button", name="Connect").click()
    wait_for_app(page)
    card.get_by_role("textbox", name="More scopes").fill("calendar.write")
    card.get_by_role("textbox", name="More scopes").press("Enter")
    wait_for_app(page)
    card.get_by_role("button", name="Get the authorization link").click()
    wait_for_app(page)
    link = page.get_by_test_id("stLinkButton").locator("a")
    href = link.get_attribute("href")
    assert href and href.startswith(acme.url + "/oauth/authorize?")
    assert "calendar.write" in httpx.URL(href).params["scope"].split()
    expect(page.get_by_text("Authorization link for Acme acme-cal")).to_be_visible()
    snapshot(page, "connect-link")

    consent = page.context.new_page()  # link_button opens a new tab; so does the test
    consent.goto(href)
    consent.locator("#password").fill("demo")
    consent.locator("input[name=grant_scope][value=email]").uncheck()
    snapshot(consent, "provider-consent")
    consent.get_by_role("button", name="Allow").click()
    consent.wait_for_url(dashboard.url + "/connected**")
    wait_for_app(consent)
    if not strict:  # the cloud adds no outcome to the redirect (README: what degrades)
        expect(consent.get_by_role("heading", name="Connected")).to_be_visible()
        expect(consent.get_by_text("Acme acme-cal is connected.")).to_be_visible()
        expect(consent.get_by_text("email was not granted")).to_be_visible()
        snapshot(consent, "landing")

    # The first tab polls and shows the connection without any click.
    expect(card.get_by_text(re.compile(r"\bConnected$"))).to_be_visible(timeout=20_000)
    expect(card.get_by_text("Granted scopes")).to_be_visible()
    expect(card.get_by_text("calendar.write")).to_have_count(1)
    snapshot(page, "connected")
    user_id = httpx.post(
        f"{live.url}/v2/mgmt/user/search", headers=live.mgmt_headers(), json={"text": "journey"}
    ).json()["users"][0]["userId"]
    token = httpx.post(
        f"{live.url}/v1/mgmt/outbound/app/user/token/latest",
        headers=live.mgmt_headers(),
        json={"appId": APP_ID, "userId": user_id},
    ).json()["token"]
    assert set(token["scopes"]) == {"profile", "calendar.read", "offline_access", "calendar.write"}
    refresh_jwt = next(c["value"] for c in page.context.cookies() if c["name"] == COOKIE_NAME)
    for tab in (page, consent):
        no_secret_in(tab, token["accessToken"], refresh_jwt, CLIENT_SECRET)

    card.get_by_role("button", name="Disconnect").click()
    wait_for_app(page)
    dialog = page.get_by_role("dialog", name="Disconnect?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Disconnect").click()
    wait_for_app(page)
    wait_for_app(page)
    reported = "does not report whether" if strict else "revoked it at the provider"
    expect(page.get_by_text(reported)).to_be_visible()
    expect(card.get_by_text("Not connected")).to_be_visible()
    assert acme.introspect(token["accessToken"])["active"] is False
    snapshot(page, "disconnected")
