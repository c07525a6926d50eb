"""The managed-tokens page in Debian's chromium, with demo data seeded in a real broker.

Sign in as an admin → the page loads with its numbers → filter by user (against the embedded
broker: filtered and paged by the broker) → open a token's detail
→ force a refresh and read the outcome; the access token stays out of the page until revealed.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in_through_the_form, wait_for_app
from tests.support.dashboard import ADMIN_ROLE, RunningDashboard, create_user, is_strict
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker
from tests.support.token_seed import CAL, SeededTokens, seed_tokens

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def seeded(live: LiveBroker, shared_provider: LiveProvider) -> SeededTokens:
    """The known population, with the provider answering refreshes again."""
    population = seed_tokens(live, shared_provider)
    shared_provider.reset_faults()
    return population


def test_load_filter_open_and_force_refresh(
    live: LiveBroker, seeded: SeededTokens, dashboard: RunningDashboard, page: Page
) -> None:
    create_user(live, "e2e-admin@example.test", roles=(ADMIN_ROLE,))
    secret = httpx.post(
        f"{live.url}/v1/mgmt/outbound/app/user/token/latest",
        headers=live.mgmt_headers(),
        json={"appId": CAL, "userId": seeded.user_id("bob")},
    ).json()["token"]["accessToken"]
    page.goto(dashboard.url + "/")
    wait_for_app(page)
    sign_in_through_the_form(page, "e2e-admin@example.test")

    page.get_by_test_id("stSidebarNavLink").filter(has_text="Managed tokens").click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Managed tokens")).to_be_visible()
    connections = page.get_by_test_id("stMetric").filter(has_text="Connections")
    expect(connections).to_contain_text("7")
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()

    page.get_by_role("textbox", name="User name or email").fill("bob@")
    page.get_by_role("textbox", name="User name or email").press("Enter")
    wait_for_app(page)
    expect(connections).to_contain_text("2")  # the numbers follow the filter
    expect(page.get_by_text("2 of 7 connections shown")).to_be_visible()
    if not is_strict(live):  # the broker filtered and paged it (the cloud's is collected)
        expect(page.get_by_text("Page 1 of 1")).to_be_visible()
    with page.expect_download() as download:  # every row the filter keeps, metadata only
        page.get_by_test_id("stDownloadButton").get_by_role("button").click()
    exported = Path(download.value.path()).read_text().splitlines()
    assert len(exported) == 3 and all(",bob," in row for row in exported[1:])
    assert secret not in "\n".join(exported)
    chooser = page.get_by_test_id("stSelectbox").filter(has_text="Open a token")
    chooser.scroll_into_view_if_needed()
    chooser.locator("input").click()
    options = page.get_by_test_id("stSelectboxVirtualDropdown").get_by_role("option")
    expect(options).to_have_count(2)  # bob's two tokens only
    options.filter(has_text=f"bob · Acme {CAL}").click()  # the app by its name
    wait_for_app(page)
    detail = page.locator(".st-key-tokens__detail")
    expect(detail.get_by_role("heading", name=f"bob · Acme {CAL}")).to_be_visible()
    assert secret not in page.content()

    detail.get_by_role("button", name="Force refresh").click()
    wait_for_app(page)
    page.locator(".st-key-tokens__confirm").get_by_role("button", name="Confirm").click()
    wait_for_app(page)
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(
        "Refreshed: the access token now expires"
    )
    assert secret not in page.content()

    # A revealed access token (after its confirmation) hides again once another tab is opened.
    current = httpx.post(
        f"{live.url}/v1/mgmt/outbound/app/user/token/latest",
        headers=live.mgmt_headers(),
        json={"appId": CAL, "userId": seeded.user_id("bob")},
    ).json()["token"]["accessToken"]
    page.locator(".st-key-tokens__reveal").get_by_role("button").click()
    wait_for_app(page)
    page.locator(".st-key-tokens__reveal_yes").get_by_role("button").click()
    wait_for_app(page)
    assert current in page.content()
    page.get_by_role("tab", name="Charts").click()
    wait_for_app(page)
    page.get_by_role("tab", name="Table").click()
    wait_for_app(page)
    expect(page.locator(".st-key-tokens__reveal")).to_be_visible()
    assert current not in page.content()
