"""The MCP client configuration in README.md works as shown (placeholders filled in)."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import mcp_types as types
from mcp import Client, StdioServerParameters

from tests.support.agents import app_and_holder
from tests.support.mcp import ROOT, McpRun, with_client
from tests.support.outbound import connect
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker

SECTION = "## Use your connections from an agent"


def readme_config() -> dict[str, object]:
    """The first JSON block of the README's agent section."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index(SECTION) :]
    block = re.search(r"```json\n(.*?)\n```", section, re.S)
    assert block, "the agent section has no JSON configuration"
    parsed: dict[str, object] = json.loads(block.group(1))
    return parsed


def test_the_readme_configuration_starts_a_working_server(
    live_broker: LiveBroker, provider: LiveProvider, tmp_path: Path
) -> None:
    app_id, holder = app_and_holder(live_broker, provider)
    connect(live_broker, holder.user, app_id)

    server = readme_config()["mcpServers"]["outbound"]  # type: ignore[index]
    env = dict(server["env"])
    assert env["OUTBOUND_BROKER_URL"] == "http://127.0.0.1:8787"  # `make run`'s broker
    env.update(
        OUTBOUND_ACCESS_KEY=holder.access_key,
        OUTBOUND_BROKER_URL=live_broker.url,  # this test's broker, on a free port
        OUTBOUND_PROJECT_ID=live_broker.project_id,
    )
    # `outbound` as installed by `make run` (the venv's bin first on PATH).
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    params = StdioServerParameters(command=server["command"], args=server["args"], env=env)

    async def body(client: Client) -> types.CallToolResult:
        return await client.call_tool(
            "call_provider", {"app_id": app_id, "method": "GET", "path": "/events"}
        )

    result = with_client(McpRun(params, []), body)
    assert result.structured_content and result.structured_content["outcome"] == "ok", result
