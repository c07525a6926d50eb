"""page: time until the tokens page is interactive in Debian's chromium with 10,000 tokens stored.

Broker and dashboard each in their own process; 2,000 users × 5 catalog apps stored
(``seed_connections``). Two people sign in through the form first (not timed; this also warms
Streamlit), each in their own browser context. Then the same page, first (cold) load each:

* ``page_empty_s``: a user without connections opens the tokens page (their own connections:
  none) — the fixed cost of the page in this browser on this machine;
* ``page_interactive_s``: an admin opens the tokens page (all users, the default view): the
  broker counts the 10,000 connections and sends the first page of rows, which is drawn
  (``dashboard/ui/tokens_paged.py``; ``bench/page_100k.py`` is the same at 100,000).

Each is timed from navigation start until the page's content is on screen (the table, or the
"no connected app" notice) and Streamlit reports its script finished
(``data-test-script-state=notRunning`` on ``stApp``, streamlit.md §2.3).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from bench.servers import (
    BenchmarkUnavailable,
    BrokerProcess,
    seed_connections,
    start_broker,
    start_dashboard,
)
from broker.seed import ADMIN_ROLE

CHROMIUM = "/usr/bin/chromium"
ADMIN_LOGIN = "bench-admin@bench.test"
USER_LOGIN = "bench-user@bench.test"
NO_CONNECTION = "You have no connected app yet"
PASSWORD = "bench correct horse battery"
TIMEOUT_MS = 120_000
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]

if Path(CHROMIUM).exists():
    from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright


def _person(broker: BrokerProcess, login: str, roles: list[str]) -> None:
    body = {"loginId": login, "email": login, "password": PASSWORD, "roleNames": roles}
    broker.mgmt("POST", "/v1/mgmt/user/create", json=body)


def wait_for_app(page: Page) -> None:
    """Until Streamlit is connected and its script run has finished."""
    app = page.get_by_test_id("stApp")
    expect(app).to_have_attribute("data-test-connection-state", "CONNECTED", timeout=TIMEOUT_MS)
    expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=TIMEOUT_MS)


def signed_in(browser: Browser, url: str, login: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.goto(url + "/")
    page.wait_for_timeout(200)
    wait_for_app(page)
    page.get_by_role("textbox", name="Login id or email").fill(login)
    page.get_by_role("textbox", name="Password").first.fill(PASSWORD)
    page.get_by_test_id("stBaseButton-primaryFormSubmit").first.click()
    page.wait_for_timeout(200)
    wait_for_app(page)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible(timeout=TIMEOUT_MS)
    return page


def tokens_page_s(page: Page, url: str, content: Locator) -> float:
    """Seconds from navigating to the tokens page until ``content`` shows and the run ended."""
    started = time.perf_counter()
    page.goto(url + "/tokens")
    expect(content).to_be_visible(timeout=TIMEOUT_MS)
    wait_for_app(page)
    return time.perf_counter() - started


@contextmanager
def seeded_browser(
    users: int, apps: int, people: dict[str, list[str]]
) -> Iterator[tuple[Browser, str]]:
    """A broker with ``users`` × ``apps`` tokens and ``people`` (login → roles), the dashboard
    on it, and chromium; all stopped afterwards. Yields the browser and the dashboard's URL."""
    if not Path(CHROMIUM).exists():
        raise BenchmarkUnavailable(f"{CHROMIUM} is missing: run `apt-get install -y chromium`")
    with tempfile.TemporaryDirectory(prefix="bench-page-") as tmp, ExitStack() as stack:
        broker = start_broker(Path(tmp) / "broker")
        stack.callback(broker.stop)
        seed_connections(broker, users, apps)
        for login, roles in people.items():
            _person(broker, login, roles)
        dashboard = start_dashboard(broker, Path(tmp) / "dashboard")
        stack.callback(dashboard.stop)
        p = stack.enter_context(sync_playwright())
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        stack.callback(browser.close)
        yield browser, dashboard.url


def run(users: int = 2000, apps: int = 5) -> dict[str, float]:
    """Seconds to interactive: the tokens page with ``users`` × ``apps`` rows, and an empty page."""
    with seeded_browser(users, apps, {ADMIN_LOGIN: [ADMIN_ROLE], USER_LOGIN: []}) as (browser, url):
        user = signed_in(browser, url, USER_LOGIN)
        admin = signed_in(browser, url, ADMIN_LOGIN)
        empty = tokens_page_s(user, url, user.get_by_text(NO_CONNECTION))
        full = tokens_page_s(admin, url, admin.get_by_test_id("stDataFrame").first)
    return {"page_interactive_s": round(full, 2), "page_empty_s": round(empty, 2)}


if __name__ == "__main__":
    print(run())
