"""Who a connect belongs to, in Debian's chromium: the COAT attempt seen from both browsers, and
an admin's reconnect link completed by its user, then refused when reused.

Each browser is its own context (its own cookies): the initiator's, the victim's, the admin's,
the user's and a stranger's.
"""

from __future__ import annotations

import secrets

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import update

from broker.demo_provider.consent_form import DEMO_PASSWORD, approve
from broker.identity.sessions import start_session
from broker.store.outbound import ManagedTokenRow
from dashboard.frame.remember import COOKIE_NAME
from tests.e2e.conftest import sign_in_through_the_form, wait_for_app
from tests.support.dashboard import ADMIN_ROLE, LOCAL_ONLY, RunningDashboard, create_user
from tests.support.identity import SignedInUser
from tests.support.outbound import consent_app_fixture, land, start_connect
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker

# The connect binding (user verifier, reconnect links) is the broker's own (/v1/x/): once,
# against the embedded broker.
pytestmark = [pytest.mark.e2e, LOCAL_ONLY]
APP_ID = "acme-bound"

acme = consent_app_fixture(APP_ID)


def _browser_page(browser: Browser) -> Page:
    return browser.new_context(viewport={"width": 1280, "height": 800}).new_page()


def _signed_in(browser: Browser, dashboard: RunningDashboard, login_id: str) -> Page:
    page = _browser_page(browser)
    page.goto(dashboard.url + "/")
    wait_for_app(page)
    sign_in_through_the_form(page, login_id)
    for _ in range(
        100
    ):  # the page hands the session to its cookie route (dashboard/frame/remember.py)
        if any(c["name"] == COOKIE_NAME for c in page.context.cookies()):
            return page
        page.wait_for_timeout(100)
    raise AssertionError("the session cookie was never set")


def _approve_at_provider(page: Page, href: str, email: str) -> None:
    page.goto(href)
    page.locator("#email").fill(email)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Allow").click()


def _token_of(live: LiveBroker, user_id: str) -> httpx.Response:
    return httpx.post(
        f"{live.url}/v1/mgmt/outbound/app/user/token/latest",
        headers=live.mgmt_headers(),
        json={"appId": APP_ID, "userId": user_id},
    )


def test_coat_link_approved_in_another_browser_stores_nothing_and_both_sides_are_told(
    live: LiveBroker, acme: LiveProvider, dashboard: RunningDashboard, browser: Browser
) -> None:
    dana_id = create_user(live, "dana@example.test", name="Dana")
    dana = _signed_in(browser, dashboard, "dana@example.test")
    card = dana.locator(f".st-key-apps__card__{APP_ID}")
    card.get_by_role("button", name="Connect").click()
    wait_for_app(dana)
    card.get_by_role("button", name="Get the authorization link").click()
    wait_for_app(dana)
    href = dana.get_by_test_id("stLinkButton").locator("a").get_attribute("href")
    assert href and href.startswith(acme.url)
    revocations = acme.stats()["revocations"]

    victim = _browser_page(browser)  # the link sent to someone else: no dashboard cookies
    _approve_at_provider(victim, href, "sam@acme.test")
    victim.wait_for_url(dashboard.url + "/connected**")
    wait_for_app(victim)
    expect(victim.get_by_role("heading", name="Not connected")).to_be_visible()
    expect(
        victim.get_by_text("Nobody is signed in to the dashboard in this browser")
    ).to_be_visible()
    expect(victim.get_by_text("is connected")).to_have_count(0)

    expect(
        dana.get_by_text("was completed in a browser where you are not signed in")
    ).to_be_visible(timeout=20_000)
    expect(card.get_by_text("Not connected")).to_be_visible()
    assert _token_of(live, dana_id).status_code == 404
    assert acme.stats()["revocations"] == revocations + 2  # sam's grant withdrawn at the provider
    victim.context.close()
    dana.context.close()


def _dead_token_for(live: LiveBroker, acme: LiveProvider, login_id: str) -> tuple[str, str]:
    """A user with a password whose connection needs a new consent: (user id, token id)."""
    user_id = create_user(live, login_id, name=login_id.split("@")[0])
    issued = start_session(live.broker, user_id, ["pwd"])
    user = SignedInUser(user_id, login_id, issued.session_jwt, issued.refresh_jwt)
    started = start_connect(live, user, APP_ID, ["profile", "calendar.read"])
    location = approve(acme.http, started.json()["url"], email="jordan@acme.test")
    token_id = land(live, httpx.get(location).headers["location"], user)["tokenId"]
    with live.broker.db.session() as s:
        s.execute(
            update(ManagedTokenRow)
            .where(ManagedTokenRow.id == token_id)
            .values(status="needs_reauth", last_refresh_error="invalid_grant: revoked")
        )
    return user_id, token_id


def _admin_makes_a_reconnect_link(
    browser: Browser, dashboard: RunningDashboard, live: LiveBroker, user_login: str
) -> str:
    admin_login = f"admin-{secrets.token_hex(3)}@example.test"
    create_user(live, admin_login, roles=(ADMIN_ROLE,))
    admin = _signed_in(browser, dashboard, admin_login)
    admin.get_by_test_id("stSidebarNavLink").filter(has_text="Managed tokens").click()
    wait_for_app(admin)
    admin.get_by_role("textbox", name="User name or email").fill(user_login)
    admin.get_by_role("textbox", name="User name or email").press("Enter")
    wait_for_app(admin)
    chooser = admin.get_by_test_id("stSelectbox").filter(has_text="Open a token")
    chooser.scroll_into_view_if_needed()
    chooser.locator("input").click()
    admin.get_by_test_id("stSelectboxVirtualDropdown").get_by_role("option").first.click()
    wait_for_app(admin)
    box = admin.locator(".st-key-reconnect__admin")
    box.get_by_role("button", name="Create a reconnect link").click()
    wait_for_app(admin)
    url = box.get_by_test_id("stCode").inner_text().strip()
    assert url.startswith(dashboard.url + "/connected?reconnect=")
    admin.context.close()
    return url


def _open_link(page: Page, url: str) -> None:
    page.goto(url)
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Reconnect")).to_be_visible()
    page.get_by_role("button", name="Reconnect").click()
    wait_for_app(page)


def test_reconnect_link_completed_by_its_user_then_refused_when_reused(
    live: LiveBroker, acme: LiveProvider, dashboard: RunningDashboard, browser: Browser
) -> None:
    rita_id, token_id = _dead_token_for(live, acme, "rita@example.test")
    url = _admin_makes_a_reconnect_link(browser, dashboard, live, "rita@")

    create_user(live, "stranger@example.test")
    stranger = _signed_in(browser, dashboard, "stranger@example.test")
    _open_link(stranger, url)
    expect(stranger.get_by_text("made for another account")).to_be_visible()
    stranger.context.close()

    rita = _signed_in(browser, dashboard, "rita@example.test")
    _open_link(rita, url)
    href = rita.get_by_test_id("stLinkButton").locator("a").get_attribute("href")
    assert href and "scope=profile+calendar.read" in href
    consent = rita.context.new_page()
    _approve_at_provider(consent, href, "alex@acme.test")
    consent.wait_for_url(dashboard.url + "/connected**")
    wait_for_app(consent)
    expect(consent.get_by_text(f"Acme {APP_ID} is connected.")).to_be_visible()
    token = _token_of(live, rita_id).json()["token"]
    assert token["id"] == token_id and token["status"] == "active"

    _open_link(rita, url)
    expect(rita.get_by_text("This reconnect link was already used")).to_be_visible()
    rita.context.close()
