"""An agent's missing connection, completed by the user in Debian's chromium.

``outbound mcp`` (stdio, official MCP client, no elicitation support) answers ``call_provider``
with a connect link; the user, signed in to the dashboard in that browser, opens it, approves
on the demo provider's consent page and lands on the dashboard's landing page (which is where
a connect is confirmed as the signed-in user once connects are bound to their initiator); the
agent's next ``call_provider`` succeeds.
"""

from __future__ import annotations

from pathlib import Path

import mcp_types as types
import pytest
from mcp import Client
from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in_through_the_form, wait_for_app
from tests.support.agents import issue_key
from tests.support.dashboard import LOCAL_ONLY, RunningDashboard, create_user
from tests.support.mcp import mcp_run, with_client
from tests.support.outbound import consent_app_fixture
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker

pytestmark = pytest.mark.e2e
APP_ID = "agent-cal"
CALL = {"app_id": APP_ID, "method": "GET", "path": "/events"}

acme = consent_app_fixture(APP_ID)


@LOCAL_ONLY  # outbound mcp works through the broker's extensions (/v1/x/outbound/...)
def test_the_link_an_agent_gets_completed_in_chromium_makes_the_next_call_succeed(
    live: LiveBroker,
    acme: LiveProvider,
    dashboard: RunningDashboard,
    page: Page,
    tmp_path: Path,
) -> None:
    user_id = create_user(live, "agent-owner@example.test")
    page.goto(dashboard.url + "/")
    wait_for_app(page)
    sign_in_through_the_form(page, "agent-owner@example.test")
    key = issue_key(live, user_id)
    run = mcp_run(
        live,
        key.access_key,
        tmp_path,
        OUTBOUND_CONNECT_REDIRECT_URL=f"{dashboard.url}/connected",
    )

    async def call(client: Client) -> types.CallToolResult:
        return await client.call_tool("call_provider", CALL)

    first = with_client(run, call)
    assert first.structured_content, first
    assert first.structured_content["outcome"] == "connect_required"
    link = first.structured_content["connect_url"]
    assert link.startswith(acme.url + "/oauth/authorize")

    page.goto(link)  # the user, in their browser
    page.locator("#password").fill("demo")
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(dashboard.url + "/connected**")
    wait_for_app(page)
    expect(page.get_by_text(f"{APP_ID} is connected.")).to_be_visible()

    second = with_client(run, call)
    assert second.structured_content and second.structured_content["outcome"] == "ok", second
    assert second.structured_content["body"]["items"]
