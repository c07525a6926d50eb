"""In a real browser: the session survives a reload through its cookie; sign-out ends it."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from dashboard.frame.remember import COOKIE_NAME
from tests.e2e.conftest import sign_in_through_the_form, wait_for_app
from tests.support.dashboard import RunningDashboard, create_user
from tests.support.servers import LiveBroker

pytestmark = pytest.mark.e2e


def session_cookie(context: BrowserContext) -> dict[str, object] | None:
    return next((dict(c) for c in context.cookies() if c["name"] == COOKIE_NAME), None)


def wait_for_cookie(page: Page, present: bool) -> None:
    for _ in range(100):
        if (session_cookie(page.context) is not None) is present:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"session cookie present={not present}, expected {present}")


def test_a_reload_keeps_the_session_and_sign_out_ends_it(
    live: LiveBroker, dashboard: RunningDashboard, page: Page
) -> None:
    create_user(live, "ada@example.test", name="Ada Lovelace")
    page.goto(dashboard.url + "/")
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    sign_in_through_the_form(page, "ada@example.test")
    expect(page.get_by_role("heading", name="Outbound apps")).to_be_visible()
    wait_for_cookie(page, present=True)
    cookie = session_cookie(page.context)
    assert cookie is not None and cookie["httpOnly"] is True and cookie["sameSite"] == "Lax"

    page.reload()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Outbound apps")).to_be_visible()
    expect(page.get_by_test_id("stSidebar").get_by_text("Ada Lovelace")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    wait_for_cookie(page, present=False)

    page.reload()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def test_a_deep_link_after_sign_in_elsewhere_opens_signed_in(
    live: LiveBroker, dashboard: RunningDashboard, page: Page
) -> None:
    create_user(live, "bea@example.test", name="Bea")
    page.goto(dashboard.url + "/tokens")
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert "next=tokens" in page.url
    sign_in_through_the_form(page, "bea@example.test")
    expect(page.get_by_role("heading", name="Managed tokens")).to_be_visible()
    wait_for_cookie(page, present=True)

    other_tab = page.context.new_page()
    other_tab.goto(dashboard.url + "/outbound_apps")
    wait_for_app(other_tab)
    expect(other_tab.get_by_role("heading", name="Outbound apps")).to_be_visible()
