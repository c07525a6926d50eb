"""The "Use with an agent" page in AppTest against a live broker: create a key (shown once,
masked until revealed), test it against the real ``outbound mcp``, revoke it; admin figures."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import replace

import httpx
from streamlit.testing.v1 import AppTest

from dashboard.descope import Secret
from dashboard.frame.state import SESSION_KEY
from tests.support.agents import user_with_key
from tests.support.dashboard import ADMIN_ROLE, LOCAL_ONLY
from tests.support.servers import LiveBroker

AGENTS_PAGE = "../pages/agents.py"
TOOLS = ["list_connections", "connect_app", "call_provider", "connection_health"]


def _open(signed_in_app: Callable[..., AppTest], roles: tuple[str, ...] = ()) -> AppTest:
    at = signed_in_app(f"agent-{secrets.token_hex(3)}@example.test", roles=roles)
    return at.switch_page(AGENTS_PAGE).run()


def _config(at: AppTest, index: int = 0) -> dict[str, object]:
    parsed: dict[str, object] = json.loads(at.code[index].value)
    return parsed


def _create(at: AppTest) -> AppTest:
    at.text_input(key="agents__name").set_value("laptop agent")
    return at.button(key="FormSubmitter:agents__create-Create access key").click().run()


def test_a_key_is_created_for_me_shown_once_and_masked_until_revealed(
    live: LiveBroker, signed_in_app: Callable[..., AppTest]
) -> None:
    at = _create(_open(signed_in_app))
    assert not at.exception
    env = _config(at)["mcpServers"]["outbound"]["env"]  # type: ignore[index]
    assert env["OUTBOUND_ACCESS_KEY"] == "<your access key>"
    assert env["OUTBOUND_BROKER_URL"] == live.url
    at.toggle(key="agents__reveal").set_value(True).run()
    key = _config(at)["mcpServers"]["outbound"]["env"]["OUTBOUND_ACCESS_KEY"]  # type: ignore[index]
    assert key.startswith("K")
    exchanged = httpx.post(
        f"{live.url}/v1/auth/accesskey/exchange",
        headers={"Authorization": f"Bearer {live.project_id}:{key}"},
        json={},
    )
    assert exchanged.status_code == 200  # the configuration works as shown

    at.button(key="agents__saved").click().run()
    assert all(key not in c.value for c in at.code)  # gone for good from the page
    [row] = at.dataframe[0].value.to_dict("records")
    assert row["Name"] == "laptop agent" and row["Active"]


@LOCAL_ONLY  # outbound mcp works through the broker's extensions (/v1/x/outbound/connections)
def test_test_it_lists_the_tools_of_the_real_server(
    signed_in_app: Callable[..., AppTest],
) -> None:
    at = _create(_open(signed_in_app))
    at = at.button(key="agents__test").click().run(timeout=90)
    assert not at.exception
    assert [s.value for s in at.success][-1] == "The MCP server answered with 4 tools."
    [tools] = [d.value for d in at.dataframe if "Tool" in d.value.columns]
    assert sorted(tools["Tool"]) == sorted(TOOLS)


def test_revoking_a_key_ends_it(live: LiveBroker, signed_in_app: Callable[..., AppTest]) -> None:
    at = _create(_open(signed_in_app))
    at.toggle(key="agents__reveal").set_value(True).run()
    key = _config(at)["mcpServers"]["outbound"]["env"]["OUTBOUND_ACCESS_KEY"]  # type: ignore[index]
    at = at.button(key="agents__saved").click().run()
    at = at.button(key="agents__revoke").click().run()
    assert not at.exception
    assert "No access keys yet." in [c.value for c in at.caption]
    refused = httpx.post(
        f"{live.url}/v1/auth/accesskey/exchange",
        headers={"Authorization": f"Bearer {live.project_id}:{key}"},
        json={},
    )
    assert refused.status_code == 401


def test_people_without_the_admin_role_see_no_agent_figures(
    signed_in_app: Callable[..., AppTest],
) -> None:
    plain = _open(signed_in_app)
    assert not plain.exception
    assert "Agent calls (last 7 days)" not in [s.value for s in plain.subheader]


@LOCAL_ONLY  # agent figures are the broker's extension (/v1/x/agents/calls)
def test_admins_see_agent_calls_per_app_and_their_failures(
    live: LiveBroker, signed_in_app: Callable[..., AppTest]
) -> None:
    agent = user_with_key(live)
    app_id = f"app-{secrets.token_hex(3)}"
    for outcome in ("ok", "needs_reauth"):
        httpx.post(
            f"{live.url}/v1/x/agents/calls",
            headers=live.user_headers(agent.session_jwt),
            json={"tool": "call_provider", "appId": app_id, "outcome": outcome},
        ).raise_for_status()
    admin = _open(signed_in_app, roles=(ADMIN_ROLE,))
    assert not admin.exception
    assert "Agent calls (last 7 days)" in [s.value for s in admin.subheader]
    [figures] = [d.value for d in admin.dataframe if "Failures" in d.value.columns]
    row = figures[figures["App"] == app_id].to_dict("records")
    assert row == [{"App": app_id, "Calls": 2, "Failures": 1, "Latest failure": "needs_reauth"}]


@LOCAL_ONLY  # agent figures are the broker's extension (/v1/x/agents/calls)
def test_a_401_renews_the_session_and_the_page_shows_its_figures(
    signed_in_app: Callable[..., AppTest],
) -> None:
    admin = signed_in_app(f"agent-{secrets.token_hex(3)}@example.test", roles=(ADMIN_ROLE,))
    before = admin.session_state[SESSION_KEY]
    # A session JWT the broker refuses (as once it has expired): the figures' call gets a 401.
    admin.session_state[SESSION_KEY] = replace(before, session_jwt=Secret("expired"))
    at = admin.switch_page(AGENTS_PAGE).run()
    assert not at.exception and not at.error
    assert "Agent calls (last 7 days)" in [s.value for s in at.subheader]
    after = at.session_state[SESSION_KEY]
    assert after.session_jwt != Secret("expired") and after.user == before.user
