"""``outbound mcp`` driven over stdio by the official MCP Python client, against a live broker
and the demo provider: tools and schemas, the user's connections, provider calls that never
show a token, and a missing connection turned into a connect the user completes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import mcp_types as types
import pytest
from mcp import Client

from tests.support.agents import KeyHolder, app_and_holder, user_completes
from tests.support.identity import sign_in_new_user
from tests.support.mcp import ROOT, McpRun, mcp_run, with_client
from tests.support.outbound import connect, stored_tokens
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker, free_port

TOOLS = {"list_connections", "connect_app", "call_provider", "connection_health"}


def _run(live: LiveBroker, holder: KeyHolder, tmp_path: Path) -> McpRun:
    return mcp_run(live, holder.access_key, tmp_path)


def _secrets_of(live: LiveBroker, app_id: str, user_id: str) -> list[str]:
    token = httpx.post(
        f"{live.url}/v1/mgmt/outbound/app/user/token/latest",
        headers=live.mgmt_headers(),
        json={"appId": app_id, "userId": user_id, "options": {"withRefreshToken": True}},
    ).json()["token"]
    return [token["accessToken"], token["refreshToken"]]


def test_tools_are_listed_with_typed_schemas(
    live_broker: LiveBroker, provider: LiveProvider, tmp_path: Path
) -> None:
    _, holder = app_and_holder(live_broker, provider)

    async def body(client: Client) -> list[types.Tool]:
        return (await client.list_tools()).tools

    tools = {t.name: t for t in with_client(_run(live_broker, holder, tmp_path), body)}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.description and tool.input_schema["type"] == "object"
        assert tool.output_schema and tool.output_schema["type"] == "object"
    call = tools["call_provider"].input_schema
    assert set(call["required"]) == {"app_id", "method", "path"}
    assert call["properties"]["method"]["enum"] == ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
    assert "outcome" in tools["call_provider"].output_schema["properties"]
    assert set(tools["list_connections"].output_schema["properties"]) == {"connections"}


def test_list_connections_matches_the_broker(
    live_broker: LiveBroker, provider: LiveProvider, tmp_path: Path
) -> None:
    app_id, holder = app_and_holder(live_broker, provider)
    connect(live_broker, holder.user, app_id, scopes=["profile", "calendar.read"])

    async def body(client: Client) -> types.CallToolResult:
        return await client.call_tool("list_connections", {})

    result = with_client(_run(live_broker, holder, tmp_path), body)
    assert not result.is_error and result.structured_content
    listed = {c["app_id"]: c for c in result.structured_content["connections"]}
    broker_view = httpx.get(
        f"{live_broker.url}/v1/x/outbound/connections",
        headers=live_broker.user_headers(holder.session_jwt),
    ).json()["connections"]
    assert set(listed) == {c["appId"] for c in broker_view}
    for expected in broker_view:
        mine = listed[expected["appId"]]
        assert mine["connected"] == expected["connected"]
        assert mine["status"] == expected.get("status")
        assert mine["scopes"] == expected.get("scopes", [])
    assert listed[app_id]["scopes"] == ["profile", "calendar.read"]
    assert listed[app_id]["access_token_expiry"] > 0


def test_call_provider_uses_the_users_token_which_never_crosses_the_protocol(
    live_broker: LiveBroker, provider: LiveProvider, tmp_path: Path
) -> None:
    app_id, holder = app_and_holder(live_broker, provider)
    connect(live_broker, holder.user, app_id)
    before = provider.stats()["api_calls"]
    run = _run(live_broker, holder, tmp_path)

    async def body(client: Client) -> list[types.CallToolResult]:
        return [
            await client.call_tool("call_provider", {"app_id": app_id, "method": "GET", "path": p})
            for p in ("/me", "/events")
        ]

    me, events = with_client(
        run, body, client_info=types.Implementation(name="pytest-agent", version="1")
    )
    assert me.structured_content and me.structured_content["outcome"] == "ok"
    assert me.structured_content["body"]["name"]  # the provider answered for the user
    assert events.structured_content and events.structured_content["body"]["items"]
    assert provider.stats()["api_calls"] == before + 2
    traffic = run.recorded()
    assert '"call_provider"' in traffic and "items" in traffic  # the recording is real
    for secret in [*_secrets_of(live_broker, app_id, holder.user.user_id), holder.session_jwt]:
        assert secret not in traffic
    assert holder.access_key not in traffic  # the key sits in the server's env only

    recorded = httpx.get(
        f"{live_broker.url}/v1/x/events",
        headers=live_broker.mgmt_headers(),
        params={"userId": holder.user.user_id, "kind": "agent_call", "appId": app_id},
    ).json()["events"]
    assert [e["detail"]["agent"] for e in recorded] == ["pytest-agent", "pytest-agent"]
    assert all(e["tokenId"] for e in recorded)


@pytest.mark.parametrize("mode", ["legacy", "auto"], ids=["2025-11-25", "2026-07-28"])
def test_a_missing_connection_is_elicited_and_the_call_then_succeeds(
    live_broker: LiveBroker, provider: LiveProvider, tmp_path: Path, mode: str
) -> None:
    app_id, holder = app_and_holder(live_broker, provider)
    asked: list[types.ElicitRequestURLParams] = []

    async def user_completes_the_link(
        _: Any, params: types.ElicitRequestParams
    ) -> types.ElicitResult:
        assert isinstance(params, types.ElicitRequestURLParams)
        asked.append(params)
        outcome = user_completes(live_broker, params.url, holder.user)
        assert outcome["outbound"] == "connected", outcome
        return types.ElicitResult(action="accept")

    async def body(client: Client) -> types.CallToolResult:
        args = {"app_id": app_id, "method": "GET", "path": "/me"}
        return await client.call_tool("call_provider", args)

    result = with_client(
        _run(live_broker, holder, tmp_path),
        body,
        elicitation_callback=user_completes_the_link,
        mode=mode,
    )
    assert len(asked) == 1 and app_id in asked[0].message
    assert result.structured_content and result.structured_content["outcome"] == "ok", result
    assert result.structured_content["body"]["name"]


def test_without_elicitation_the_link_is_returned_for_the_user(
    live_broker: LiveBroker, provider: LiveProvider, tmp_path: Path
) -> None:
    app_id, holder = app_and_holder(live_broker, provider)
    run = _run(live_broker, holder, tmp_path)

    async def body(client: Client) -> list[types.CallToolResult]:
        first = await client.call_tool(
            "call_provider", {"app_id": app_id, "method": "GET", "path": "/me"}
        )
        assert first.structured_content and first.structured_content["connect_url"]
        outcome = user_completes(live_broker, first.structured_content["connect_url"], holder.user)
        assert outcome["outbound"] == "connected", outcome
        again = await client.call_tool(
            "call_provider", {"app_id": app_id, "method": "GET", "path": "/me"}
        )
        return [first, again]

    first, again = with_client(run, body)
    assert first.structured_content and first.structured_content["outcome"] == "connect_required"
    assert not first.is_error
    assert again.structured_content and again.structured_content["outcome"] == "ok"


def test_a_link_completed_by_another_account_stores_nothing(
    live_broker: LiveBroker, provider: LiveProvider, tmp_path: Path
) -> None:
    """COAT through an agent: the link the agent got, approved and landed by someone else."""
    app_id, holder = app_and_holder(live_broker, provider)
    stranger = sign_in_new_user(live_broker)
    run = _run(live_broker, holder, tmp_path)
    revocations = provider.stats()["revocations"]

    async def body(client: Client) -> list[types.CallToolResult]:
        first = await client.call_tool(
            "call_provider", {"app_id": app_id, "method": "GET", "path": "/me"}
        )
        assert first.structured_content and first.structured_content["connect_url"]
        outcome = user_completes(live_broker, first.structured_content["connect_url"], stranger)
        assert outcome["outbound"] != "connected", outcome
        again = await client.call_tool(
            "call_provider", {"app_id": app_id, "method": "GET", "path": "/me"}
        )
        return [first, again]

    _, again = with_client(run, body)
    assert again.structured_content and again.structured_content["outcome"] == "connect_required"
    assert (
        stored_tokens(live_broker, app_id, "user_id") == []
    )  # neither the holder nor the stranger
    assert provider.stats()["revocations"] > revocations  # the stray grant was withdrawn


def test_refusals_are_clear_tool_errors(
    live_broker: LiveBroker, provider: LiveProvider, tmp_path: Path
) -> None:
    app_id, holder = app_and_holder(live_broker, provider)
    connect(live_broker, holder.user, app_id)

    async def body(client: Client) -> list[types.CallToolResult]:
        return [
            await client.call_tool(
                "call_provider",
                {"app_id": app_id, "method": "GET", "path": "http://169.254.169.254/latest"},
            ),
            await client.call_tool("connection_health", {}),
        ]

    elsewhere, health = with_client(_run(live_broker, holder, tmp_path), body)
    assert elsewhere.is_error and "not one of this app's API base URLs" in str(elsewhere.content)
    assert health.is_error and "administrators only" in str(health.content)


def test_connection_health_for_an_admin(
    live_broker: LiveBroker, provider: LiveProvider, tmp_path: Path
) -> None:
    app_id, holder = app_and_holder(live_broker, provider, roles=["outbound-admin"])
    connect(live_broker, holder.user, app_id)

    async def body(client: Client) -> types.CallToolResult:
        return await client.call_tool("connection_health", {"app_id": app_id, "status": "active"})

    result = with_client(_run(live_broker, holder, tmp_path), body)
    assert result.structured_content, result
    assert result.structured_content["apps"] == [{"app_id": app_id, "counts": {"active": 1}}]
    assert result.structured_content["connections"][0]["user_id"] == holder.user.user_id


def test_connect_app_hands_over_a_link_for_the_keys_apps_only(
    live_broker: LiveBroker, provider: LiveProvider, tmp_path: Path
) -> None:
    app_id, _ = app_and_holder(live_broker, provider)
    other, holder = app_and_holder(live_broker, provider, app_ids=[app_id])

    async def body(client: Client) -> list[types.CallToolResult]:
        return [
            await client.call_tool("connect_app", {"app_id": app_id, "scopes": ["profile"]}),
            await client.call_tool("connect_app", {"app_id": other}),
        ]

    mine, refused = with_client(_run(live_broker, holder, tmp_path), body)
    assert mine.structured_content and mine.structured_content["outcome"] == "link"
    link = mine.structured_content["url"]
    assert link.startswith(provider.url) and "scope=profile" in link
    assert refused.is_error and f"No app '{other}' is available" in str(refused.content)


def test_connect_app_elicits_the_link_and_reports_the_connection(
    live_broker: LiveBroker, provider: LiveProvider, tmp_path: Path
) -> None:
    app_id, holder = app_and_holder(live_broker, provider)
    declined: list[str] = []

    async def user_answers(_: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        assert isinstance(params, types.ElicitRequestURLParams)
        if not declined:  # the first time the user says no
            declined.append(params.url)
            return types.ElicitResult(action="decline")
        assert user_completes(live_broker, params.url, holder.user)["outbound"] == "connected"
        return types.ElicitResult(action="accept")

    async def body(client: Client) -> list[types.CallToolResult]:
        return [await client.call_tool("connect_app", {"app_id": app_id}) for _ in range(2)]

    no, yes = with_client(
        _run(live_broker, holder, tmp_path), body, elicitation_callback=user_answers
    )
    assert no.structured_content and no.structured_content["outcome"] == "declined"
    assert yes.structured_content and yes.structured_content["outcome"] == "connected"
    assert yes.structured_content["url"] is None  # the link went to the user, not the model


def _start_failing(broker_url: str, key: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "broker.cli", "mcp"],
        env={
            "PATH": "/usr/bin:/bin",
            "OUTBOUND_ACCESS_KEY": key,
            "OUTBOUND_BROKER_URL": broker_url,
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_refused_key_stops_the_server_with_one_sentence(live_broker: LiveBroker) -> None:
    done = _start_failing(live_broker.url, "Knotakey")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().startswith("outbound mcp: The access key was refused")
    assert "Traceback" not in done.stderr


def test_an_unreachable_broker_stops_the_server_with_one_sentence() -> None:
    done = _start_failing(f"http://127.0.0.1:{free_port()}", "Kany")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().startswith("outbound mcp: The broker at http://127.0.0.1:")
    assert "is not reachable" in done.stderr and "Traceback" not in done.stderr
