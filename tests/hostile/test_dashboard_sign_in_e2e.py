"""The admin's email code, asked for by a stranger in a real browser, is nowhere it can see.

A fresh, signed-out chromium opens the dashboard, asks for an email code for the admin and
gets "We sent a code". The code the broker really issued (read from the demo outbox in the
database, or from the loopback SMTP server it went to) must then be absent from the page's HTML,
its visible text and every WebSocket frame Streamlit sent the browser — in demo mode and out of
it. Out of demo mode the code arrives in the mailbox, once, and the broker kept no outbox copy;
in demo mode only the management key, typed into the developer outbox, shows it. With neither
a mail server nor demo mode, no code is issued and the page says so in one sentence.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, WebSocket, expect
from sqlalchemy import func, select

from broker.store.identity import OtpCode, OutboxMessage
from dashboard.descope.errors import EmailNotConfigured
from tests.e2e.conftest import browser, page, wait_for_app  # noqa: F401  (Playwright fixtures)
from tests.support.dashboard import (
    ADMIN_ROLE,
    RunningDashboard,
    create_user,
    start_dashboard,
    start_dashboard_broker,
)
from tests.support.mailbox import DELIVERY_MODES, Mailbox, delivery
from tests.support.servers import LiveBroker

pytestmark = pytest.mark.e2e
ADMIN = "admin@acme.test"


@pytest.fixture(params=DELIVERY_MODES)
def stack(
    request: pytest.FixtureRequest, mailbox: Mailbox, tmp_path: Path
) -> Iterator[tuple[str, LiveBroker, RunningDashboard]]:
    """A broker holding the admin and the dashboard as a real server, in one delivery set-up."""
    settings, env = delivery(request.param, mailbox)
    broker = start_dashboard_broker(tmp_path / "broker", **settings)
    create_user(broker, ADMIN, roles=(ADMIN_ROLE,), name="Ada Admin")
    dashboard = start_dashboard(broker, tmp_path / "dashboard", env=env)
    try:
        yield request.param, broker, dashboard
    finally:
        dashboard.stop()
        broker.stop()


def _frames_of(tab: Page) -> list[bytes]:
    """Collects every WebSocket frame the page receives from now on."""
    frames: list[bytes] = []

    def on_socket(socket: WebSocket) -> None:
        socket.on(
            "framereceived",
            lambda payload: frames.append(
                payload if isinstance(payload, bytes) else payload.encode()
            ),
        )

    tab.on("websocket", on_socket)
    return frames


def _outbox_code(broker: LiveBroker) -> str:
    answer = httpx.get(
        f"{broker.url}/v1/x/outbox", params={"loginId": ADMIN}, headers=broker.mgmt_headers()
    )
    assert answer.status_code == 200, answer.text
    code: str = answer.json()["messages"][0]["code"]
    return code


def test_a_signed_out_browser_never_sees_the_admins_email_code(
    stack: tuple[str, LiveBroker, RunningDashboard],
    mailbox: Mailbox,
    page: Page,  # noqa: F811
) -> None:
    mode, broker, dashboard = stack
    frames = _frames_of(page)
    page.goto(dashboard.url)
    wait_for_app(page)
    page.get_by_role("tab", name="Email code").click()
    page.get_by_label("Email", exact=True).locator("visible=true").fill(ADMIN)
    page.get_by_role("button", name="Email me a code").click()
    wait_for_app(page)
    if mode == "no mail server":  # one sentence, and no code anywhere, not even in the database
        expect(page.get_by_text(EmailNotConfigured.sentence)).to_be_visible()
        with broker.broker.db.session() as s:
            assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0
            assert s.scalar(select(func.count()).select_from(OtpCode)) == 0
        return
    expect(page.get_by_text("We sent a code to a***@acme.test.")).to_be_visible()

    code = _outbox_code(broker) if mode == "demo mode" else mailbox.latest_code(ADMIN)
    assert len(code) == 6
    assert code not in page.content()
    assert code not in page.locator("body").inner_text()
    assert frames and not [f for f in frames if code.encode() in f]

    if mode == "smtp":
        assert len(mailbox.messages_to(ADMIN)) == 1  # it went there, once
        with broker.broker.db.session() as s:
            assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        no_outbox = httpx.get(
            f"{broker.url}/v1/x/outbox", params={"loginId": ADMIN}, headers=broker.mgmt_headers()
        )
        assert no_outbox.status_code == 404
        expect(page.get_by_text("Developer outbox")).to_have_count(0)
        expect(page.get_by_text("Demo mode")).to_have_count(0)
        return

    # Demo mode says so, and its developer outbox opens only with the management key.
    expect(page.get_by_text("Demo mode").first).to_be_visible()
    page.get_by_text("Developer outbox (demo mode)").click()
    page.get_by_label("Login id", exact=True).fill(ADMIN)
    page.get_by_role("button", name="Show codes").click()
    wait_for_app(page)
    expect(page.get_by_text("Enter the login id and the management key.")).to_be_visible()
    assert code not in page.content()
    page.get_by_label("Login id", exact=True).fill(ADMIN)
    page.get_by_label("Management key", exact=True).fill(broker.management_key)
    page.get_by_role("button", name="Show codes").click()
    wait_for_app(page)
    expect(page.get_by_test_id("stCode").filter(has_text=code)).to_be_visible()
    expect(page.get_by_label("Management key", exact=True)).to_have_value("")  # not kept
