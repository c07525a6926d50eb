"""Playwright fixtures: a broker, the dashboard as a real server, Debian's chromium.

Playwright's sync API runs its own event loop, so everything here is a plain (sync) fixture.
``live`` runs each module against the embedded broker and against the broker in strict mode
standing in for Descope's cloud (tests/support/dashboard.py ``MODES``); the newcomer journey
(``outbound up``) has its own stack and runs once.
Reuse: ``dashboard`` (module-scoped ``RunningDashboard`` against ``live``), ``page`` (a fresh
browser context per test), ``wait_for_app(page)`` and ``sign_in_through_the_form(page, ...)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.dashboard import (
    PASSWORD,
    RunningDashboard,
    start_dashboard,
)
from tests.support.servers import LiveBroker

CHROMIUM = "/usr/bin/chromium"

if not Path(CHROMIUM).exists():  # CI installs it; elsewhere the e2e suite is skipped.
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def dashboard(
    live: LiveBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningDashboard]:
    """``python -m streamlit run dashboard`` against ``live`` on a free port."""
    running = start_dashboard(live, tmp_path_factory.mktemp("dashboard"))
    yield running
    running.stop()


# One chromium per process: modules elsewhere (tests/hostile) import these fixtures, and
# Playwright's sync API allows only one running instance per thread.
_LAUNCHED: list[Browser] = []


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's chromium, headless (never a downloaded browser)."""
    if _LAUNCHED:
        yield _LAUNCHED[0]
        return
    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        _LAUNCHED.append(launched)
        yield launched
        _LAUNCHED.clear()
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) and page."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    new_page = context.new_page()
    yield new_page
    context.close()


def wait_for_app(page: Page, timeout: float = 30_000) -> None:
    """Wait until Streamlit is connected and the script has finished its run."""
    page.wait_for_timeout(200)  # let a just-triggered rerun flip to "running"
    app = page.get_by_test_id("stApp")
    expect(app).to_have_attribute("data-test-connection-state", "CONNECTED", timeout=timeout)
    expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=timeout)


def sign_in_through_the_form(page: Page, login_id: str, password: str = PASSWORD) -> None:
    """Fill and submit the password form on the sign-in page."""
    page.get_by_role("textbox", name="Login id or email").fill(login_id)
    page.get_by_role("textbox", name="Password").first.fill(password)
    page.get_by_test_id("stBaseButton-primaryFormSubmit").first.click()
    wait_for_app(page)
    # Signed in means the sign-in page is gone (its rerun may start after wait_for_app's grace).
    expect(page.get_by_role("textbox", name="Password")).to_have_count(0, timeout=30_000)
    wait_for_app(page)
