"""The README journey in Debian's chromium, exactly as a newcomer does it.

``outbound up`` for real (tests/support/stack.py) → open the dashboard URL it printed → the
first-run banner says what to do → sign in with the printed demo user → Outbound apps, with the
seeded catalog → connect Acme Calendar: the authorization-URL inspector, then the link → sign in
at the demo provider with the account its page shows and Allow → the landing page → back →
Managed tokens shows the token with its expiry, scopes and status — in both tabs, with no manual
refresh, although the first tab looked at Managed tokens before connecting — and after a
disconnect it is gone, again at once. Then an admin sees every seeded status and opens a token. With ``OUTBOUND_SCREENSHOTS`` naming a folder
(``make screenshots``), each page is saved there for the README at 1280×800.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import sign_in_through_the_form, wait_for_app
from tests.support.stack import RunningStack, running_stack

pytestmark = pytest.mark.e2e
WIDTH, HEIGHT = 1280, 800
DEMO_APP = "acme-calendar"
DEMO_NAME = "Acme Calendar"
CATALOG = ("github", "google-calendar", "hubspot", "salesforce", "slack")
WHEN = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """``outbound up`` on free ports with a fresh data folder (first run: demo data seeded)."""
    with running_stack(tmp_path_factory.mktemp("newcomer") / "data") as running:
        yield running


def shoot(page: Page, name: str, *, full_page: bool = False, only: Locator | None = None) -> None:
    """Save ``<name>.png`` (the page, or ``only`` that element) when OUTBOUND_SCREENSHOTS is set.

    Streamlit scrolls inside its main section, not the document, so a full page is taken by
    making the viewport as tall as that section for the shot.
    """
    folder = os.environ.get("OUTBOUND_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    # The "Signed in" toast would cover the page; it goes by itself after a few seconds.
    expect(page.get_by_test_id("stToast")).to_have_count(0, timeout=15_000)
    if full_page:
        tall = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
        page.set_viewport_size({"width": WIDTH, "height": max(HEIGHT, int(tall))})
        page.wait_for_timeout(500)  # let the grid and charts lay out at the new size
    path = str(Path(folder) / f"{name}.png")
    if only is not None:
        only.screenshot(path=path)
    else:
        page.screenshot(path=path, full_page=True)
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})


def open_page(page: Page, title: str) -> None:
    """Click ``title`` in the sidebar navigation and wait for the page."""
    page.get_by_test_id("stSidebarNavLink").filter(has_text=title).click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name=title)).to_be_visible()


def token_row(page: Page, app_name: str, owner: str) -> Locator:
    """The managed-tokens table row of ``owner``'s token for the app named ``app_name``.

    The grid draws on a canvas; its rows are read from the accessible table it keeps beside it.
    """
    grid = page.get_by_test_id("stDataFrame").first
    grid.scroll_into_view_if_needed()
    return grid.locator("tr").filter(has_text=owner).filter(has_text=app_name)


def test_a_newcomer_follows_the_readme_and_sees_the_token(stack: RunningStack, page: Page) -> None:
    assert "Demo mode (loopback only" in stack.output_path.read_text()  # `make run` says so
    page.goto(stack.dashboard_url)
    wait_for_app(page)
    banner = page.locator(".st-key-welcome__banner")
    expect(banner).to_contain_text("Sign in with the demo account printed by make run")
    expect(page.get_by_text("Demo mode").first).to_be_visible()  # and so does every page
    shoot(page, "sign-in")

    sign_in_through_the_form(page, stack.sign_in.user_login, stack.sign_in.password)
    expect(page.get_by_role("heading", name="Outbound apps")).to_be_visible()
    # Typed into the address bar while signed in: the page itself, no "Page not found".
    page.goto(stack.dashboard_url + "/outbound_apps")
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Outbound apps")).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)
    # A look at Managed tokens before connecting (the dashboard keeps what it saw).
    open_page(page, "Managed tokens")
    expect(page.get_by_text("You have no connected app yet")).to_be_visible()
    open_page(page, "Outbound apps")
    expect(banner).to_contain_text("Connect Acme Calendar below.")
    expect(page.get_by_text("Demo mode").first).to_be_visible()
    for app_id in (DEMO_APP, *CATALOG):
        expect(page.locator(f".st-key-apps__card__{app_id}")).to_be_visible()
    card = page.locator(f".st-key-apps__card__{DEMO_APP}")
    expect(card.get_by_text("Not connected")).to_be_visible()
    google = page.locator(".st-key-apps__card__google-calendar")
    expect(google.get_by_text("googleapis")).not_to_have_count(0)
    expect(google.locator("a")).to_have_count(0)  # a scope that is a URL is not a link
    shoot(page, "outbound-apps", full_page=True)

    card.get_by_role("button", name="Connect", exact=True).click()
    wait_for_app(page)
    card.get_by_role("button", name="Get the authorization link").click()
    wait_for_app(page)
    inspector = page.locator(".st-key-apps__pending")
    expect(inspector).to_contain_text("Authorization link for Acme Calendar")
    expect(inspector.get_by_test_id("stDataFrame")).to_be_visible()
    href = inspector.get_by_test_id("stLinkButton").locator("a").get_attribute("href")
    assert href and href.startswith(stack.provider_url + "/oauth/authorize?")
    shoot(page, "connect-inspector", full_page=True, only=inspector)

    consent = page.context.new_page()  # the link opens a new tab
    consent.goto(href)
    expect(consent.get_by_role("heading", name="Sign in to continue to Outbound Dashboard"))
    hint = consent.locator(".hint").inner_text()
    shown = re.search(r"Demo account: (\S+) · password (\S+)", hint)
    assert shown, hint
    assert shown.group(1) == stack.sign_in.user_login  # the dashboard's own user, not alex
    consent.locator("#email").fill(shown.group(1))
    consent.locator("#password").fill(shown.group(2))
    shoot(consent, "provider-consent")
    consent.get_by_role("button", name="Allow").click()
    consent.wait_for_url(stack.dashboard_url + "/connected**")
    wait_for_app(consent)
    expect(consent.get_by_role("heading", name="Connected")).to_be_visible()
    expect(consent.get_by_text("Acme Calendar is connected.")).to_be_visible()
    # The granted-against-requested table is drawn (a canvas grid that lays out after load).
    consent.wait_for_function(
        "() => { const e = document.querySelector('[data-testid=stDataFrame]');"
        " return e !== null && e.getBoundingClientRect().width > 300; }"
    )
    consent.wait_for_timeout(500)
    shoot(consent, "landing")

    consent.get_by_role("link", name="Back to the outbound apps").click()
    wait_for_app(consent)
    back_card = consent.locator(f".st-key-apps__card__{DEMO_APP}")
    expect(back_card.get_by_text("Granted scopes")).to_be_visible()
    expect(consent.locator(".st-key-welcome__banner")).to_have_count(0)  # done: no banner

    open_page(consent, "Managed tokens")
    row = token_row(consent, DEMO_NAME, stack.sign_in.user_login)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Active")
    expect(row).to_contain_text(WHEN)
    expect(row).to_contain_text("calendar.read")

    # The first tab saw the connect by itself and shows the token without any refresh.
    expect(card.get_by_text("Granted scopes")).to_be_visible(timeout=20_000)
    open_page(page, "Managed tokens")
    expect(token_row(page, DEMO_NAME, stack.sign_in.user_login)).to_have_count(1)

    # Disconnect in the first tab: Managed tokens no longer lists it, in either tab.
    open_page(page, "Outbound apps")
    page.locator(f".st-key-apps__card__{DEMO_APP}").get_by_role("button", name="Disconnect").click()
    wait_for_app(page)
    page.get_by_role("dialog", name="Disconnect?").get_by_role("button", name="Disconnect").click()
    wait_for_app(page)
    open_page(page, "Managed tokens")
    expect(page.get_by_text("You have no connected app yet")).to_be_visible()
    open_page(consent, "Outbound apps")
    open_page(consent, "Managed tokens")
    expect(consent.get_by_text("You have no connected app yet")).to_be_visible()


def test_an_admin_sees_every_seeded_status_and_opens_a_token(
    stack: RunningStack, page: Page
) -> None:
    page.goto(stack.dashboard_url)
    wait_for_app(page)
    sign_in_through_the_form(page, stack.sign_in.admin_login, stack.sign_in.password)
    open_page(page, "Managed tokens")
    wait_for_app(page)
    for owner, app_name, status in (
        ("admin@acme.test", DEMO_NAME, "Active"),
        ("sofia.garcia@globex.test", DEMO_NAME, "Needs reconnect"),
        ("omar.haddad@initech.test", "HubSpot", "Expired"),
    ):
        expect(token_row(page, app_name, owner)).to_contain_text(status)
    shoot(page, "tokens", full_page=True)

    chooser = page.get_by_test_id("stSelectbox").filter(has_text="Open a token")
    chooser.scroll_into_view_if_needed()
    chooser.locator("input").click()
    option = page.get_by_test_id("stSelectboxVirtualDropdown").get_by_role("option")
    option.filter(has_text="Sofia").first.click()
    wait_for_app(page)
    detail = page.locator(".st-key-tokens__detail")
    expect(detail.get_by_role("heading", name="Sofia García · Acme Calendar")).to_be_visible()
    expect(detail.get_by_text("Reveal the access token")).to_be_visible()
    shoot(page, "token-detail", full_page=True, only=detail)
