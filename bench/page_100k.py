"""page_100k: the tokens page at 100,000 tokens in Debian's chromium, filter typed → table updated.

20,000 users × 5 catalog apps stored (``seed_connections``: in bulk through the store); broker
and dashboard each in their own process, as in ``bench/page.py`` (whose helpers this uses). An
admin signs in through the form (not timed), then:

* ``page_load_100k_s``: the admin's cold load of the tokens page (all users) until the table is
  on screen and Streamlit's run finished; the page asks the broker for its first page of rows
  and the KPIs of all 100,000 tokens (``dashboard/ui/tokens_paged.py``), it never collects them;
* ``page_interactive_100k_s`` (floor 4 s): one user's name typed into the owner filter (then
  Enter) until the "Connections" KPI shows that user's 5 connections, the caption says
  ``5 of 100000 connections shown``, the table is on screen and the run finished.

``python -m bench.page_100k`` prints them; ``make bench`` runs it as ``page_100k``.
"""

from __future__ import annotations

import time

from playwright.sync_api import Locator, Page, expect

from bench.page import (
    ADMIN_LOGIN,
    TIMEOUT_MS,
    seeded_browser,
    signed_in,
    tokens_page_s,
    wait_for_app,
)
from broker.seed import ADMIN_ROLE

USER_FILTER = "User name or email"  # the tokens page's owner filter (dashboard/ui/tokens_views.py)


def connections_shown(page: Page) -> Locator:
    """The value of the tokens page's "Connections" KPI."""
    metric = page.get_by_test_id("stMetric").filter(has_text="Connections")
    return metric.get_by_test_id("stMetricValue")


def filter_s(page: Page, text: str, expected_connections: int, shown: Locator) -> float:
    """Seconds from typing ``text`` into the owner filter (then Enter) until the "Connections"
    KPI shows ``expected_connections``, ``shown`` is on screen and the run finished: filter
    typed → table updated."""
    started = time.perf_counter()
    box = page.get_by_role("textbox", name=USER_FILTER)
    box.fill(text)
    box.press("Enter")
    expect(connections_shown(page)).to_have_text(str(expected_connections), timeout=TIMEOUT_MS)
    expect(shown).to_be_visible(timeout=TIMEOUT_MS)
    wait_for_app(page)
    return time.perf_counter() - started


def _table(page: Page) -> None:
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible(timeout=TIMEOUT_MS)


def run(users: int = 20_000, apps: int = 5) -> dict[str, float]:
    """The figures at ``users`` × ``apps`` tokens (every answer checked on screen)."""
    with seeded_browser(users, apps, {ADMIN_LOGIN: [ADMIN_ROLE]}) as (browser, url):
        admin = signed_in(browser, url, ADMIN_LOGIN)
        load = tokens_page_s(admin, url, connections_shown(admin))
        expect(connections_shown(admin)).to_have_text(str(users * apps))
        _table(admin)
        shown = admin.get_by_text(f"{apps} of {users * apps} connections shown")
        typed = filter_s(admin, f"seeded-{users // 2:06d}", apps, shown)
        _table(admin)
    return {"page_load_100k_s": round(load, 2), "page_interactive_100k_s": round(typed, 2)}


if __name__ == "__main__":
    print(run())
