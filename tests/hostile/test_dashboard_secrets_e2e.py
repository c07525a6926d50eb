"""Secrets never in clear, in the browser: a full journey in chromium, then everything it saw.

Sign in → connect the demo provider through its consent page → land → see the token on the
tokens page → force a refresh → reveal the access token → disconnect. Every URL the browser
visited or requested (every tab), the HTML of every page after every step, and everything the
dashboard process printed must hold none of: the password, the access and refresh tokens (each
generation, fetched with ``withRefreshToken``), the client secret, the management key, the
user's refresh JWT. The one exception is the access token on the tokens page after the person
asked to reveal it; it is absent there before the reveal.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Frame, Page, Request, expect

from dashboard.frame.remember import COOKIE_NAME
from tests.e2e.conftest import (  # noqa: F401  (Playwright fixtures)
    browser,
    dashboard,
    page,
    sign_in_through_the_form,
    wait_for_app,
)
from tests.support.dashboard import ADMIN_ROLE, LOCAL_ONLY, PASSWORD, RunningDashboard, create_user
from tests.support.outbound import CLIENT_SECRET, consent_app_fixture
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker

# Once, against the embedded broker: the strict (cloud) mode runs tests/app and tests/e2e.
pytestmark = [pytest.mark.e2e, LOCAL_ONLY]
APP_ID = "acme-secrets"

acme = consent_app_fixture(APP_ID)


def stored_token(live: LiveBroker, user_id: str) -> dict[str, Any]:
    """The user's token as a backend fetches it, refresh token included."""
    response = httpx.post(
        f"{live.url}/v1/mgmt/outbound/app/user/token/latest",
        headers=live.mgmt_headers(),
        json={"appId": APP_ID, "userId": user_id, "options": {"withRefreshToken": True}},
    )
    assert response.status_code == 200, response.text
    token: dict[str, Any] = response.json()["token"]
    assert token["accessToken"] and token["refreshToken"]
    return token


class Witness:
    """Every URL the browser went to or asked for, and the HTML of each page at each step."""

    def __init__(self, first: Page) -> None:
        self.urls: list[str] = []
        self.pages: list[tuple[str, str]] = []  # (step, html)
        self.tabs: list[Page] = [first]
        first.context.on("request", self._requested)
        first.context.on("page", self._watch)
        self._watch(first)

    def _requested(self, request: Request) -> None:
        self.urls.append(request.url)

    def _navigated(self, frame: Frame) -> None:
        self.urls.append(frame.url)

    def _watch(self, tab: Page) -> None:
        tab.on("framenavigated", self._navigated)

    def snapshot(self, step: str) -> None:
        """Keep the HTML of every open tab, labelled with the step."""
        for tab in self.tabs:
            self.pages.append((step, tab.content()))


def test_no_secret_reaches_a_url_a_page_or_the_dashboard_log_unless_revealed(
    live: LiveBroker,
    acme: LiveProvider,
    dashboard: RunningDashboard,  # noqa: F811
    page: Page,  # noqa: F811
) -> None:
    user_id = create_user(live, "secrets@example.test", roles=(ADMIN_ROLE,))
    seen = Witness(page)
    page.goto(dashboard.url + "/")
    wait_for_app(page)
    sign_in_through_the_form(page, "secrets@example.test")
    seen.snapshot("signed in")

    card = page.locator(f".st-key-apps__card__{APP_ID}")
    card.get_by_role("button", name="Connect").click()
    wait_for_app(page)
    card.get_by_role("button", name="Get the authorization link").click()
    wait_for_app(page)
    href = page.get_by_test_id("stLinkButton").locator("a").get_attribute("href")
    assert href
    consent = page.context.new_page()
    seen.tabs.append(consent)
    consent.goto(href)
    consent.locator("#password").fill("demo")
    seen.snapshot("consent")
    consent.get_by_role("button", name="Allow").click()
    consent.wait_for_url(dashboard.url + "/connected**")
    wait_for_app(consent)
    expect(consent.get_by_text(f"Acme {APP_ID} is connected.")).to_be_visible()
    expect(
        page.locator(f".st-key-apps__card__{APP_ID}").get_by_text("Granted scopes")
    ).to_be_visible(timeout=20_000)
    seen.snapshot("landed")
    tokens = [stored_token(live, user_id)]

    page.get_by_test_id("stSidebarNavLink").filter(has_text="Managed tokens").click()
    wait_for_app(page)
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
    chooser = page.get_by_test_id("stSelectbox").filter(has_text="Open a token")
    chooser.scroll_into_view_if_needed()
    wait_for_app(page)
    chooser.locator("input").click()
    page.get_by_test_id("stSelectboxVirtualDropdown").get_by_role("option").filter(
        has_text=APP_ID
    ).click()
    wait_for_app(page)
    detail = page.locator(".st-key-tokens__detail")
    expect(detail.get_by_role("button", name="Force refresh")).to_be_visible()
    seen.snapshot("token detail")
    detail.get_by_role("button", name="Force refresh").click()
    wait_for_app(page)
    page.locator(".st-key-tokens__confirm").get_by_role("button", name="Confirm").click()
    wait_for_app(page)
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("Refreshed")
    seen.snapshot("refreshed")
    tokens.append(stored_token(live, user_id))
    assert tokens[1]["accessToken"] != tokens[0]["accessToken"]
    current_access = tokens[1]["accessToken"]
    assert current_access not in page.content()  # before the reveal

    page.locator(".st-key-tokens__reveal").get_by_role("button").click()
    wait_for_app(page)
    assert current_access not in page.content()  # it asks first
    page.locator(".st-key-tokens__reveal_yes").get_by_role("button").click()
    wait_for_app(page)
    revealed = page.content()
    assert current_access in revealed  # the person asked for it, and confirmed

    page.locator(".st-key-tokens__reveal_hide").get_by_role("button").click()
    wait_for_app(page)
    detail.get_by_role("button", name="Disconnect user from app").click()
    wait_for_app(page)
    page.locator(".st-key-tokens__confirm").get_by_role("button", name="Confirm").click()
    wait_for_app(page)
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("Disconnected")
    seen.snapshot("disconnected")

    refresh_jwt = next(c["value"] for c in page.context.cookies() if c["name"] == COOKIE_NAME)
    secrets = {
        "password": PASSWORD,
        "client secret": CLIENT_SECRET,
        "management key": live.management_key,
        "refresh JWT": refresh_jwt,
    }
    for generation, token in enumerate(tokens):
        secrets[f"access token {generation}"] = token["accessToken"]
        secrets[f"refresh token {generation}"] = token["refreshToken"]
    log = dashboard.log_path.read_text()
    leaks = [
        f"{name} in {where}"
        for name, secret in secrets.items()
        for where, text in [
            ("a URL", "\n".join(seen.urls)),
            ("the dashboard's output", log),
            *((f"the page at '{step}'", html) for step, html in seen.pages),
        ]
        if secret in text
    ]
    assert leaks == []
    assert len(seen.urls) > 10 and len(seen.pages) >= 6 and log  # the witness saw the journey
    other_secrets = {k: v for k, v in secrets.items() if k != "access token 1"}
    assert [name for name, secret in other_secrets.items() if secret in revealed] == []
