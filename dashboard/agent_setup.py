"""Setting an agent up: the MCP client configuration to paste, and a probe listing the tools.

Plain Python (no Streamlit). The probe starts ``outbound mcp`` over stdio with the given key,
exactly as an MCP client would, and lists its tools with the official MCP client.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

from dashboard.descope import (
    Secret,
)
from dashboard.settings import Settings

KEY_PLACEHOLDER = "<your access key>"
PROBE_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class ServerCommand:
    """How an MCP client starts ``outbound mcp`` on this machine."""

    command: str
    args: tuple[str, ...]

    @classmethod
    def here(cls) -> ServerCommand:
        """The ``outbound`` script beside this Python, else ``python -m broker.cli``."""
        script = Path(sys.executable).with_name("outbound")
        if script.exists():
            return cls(str(script), ("mcp",))
        found = shutil.which("outbound")
        if found:
            return cls(found, ("mcp",))
        return cls(sys.executable, ("-m", "broker.cli", "mcp"))


def server_env(settings: Settings, key: Secret | None) -> dict[str, str]:
    """The environment ``outbound mcp`` needs (the key in clear only when given)."""
    return {
        "OUTBOUND_ACCESS_KEY": key.reveal() if key else KEY_PLACEHOLDER,
        "OUTBOUND_BROKER_URL": settings.base_url,
        "OUTBOUND_PROJECT_ID": settings.project_id,
        "OUTBOUND_DASHBOARD_URL": settings.dashboard_url,
    }


def client_config(settings: Settings, key: Secret | None, command: ServerCommand) -> str:
    """The ``mcpServers`` JSON most MCP clients read (Claude Desktop, Cursor, VS Code…)."""
    entry = {
        "command": command.command,
        "args": list(command.args),
        "env": server_env(settings, key),
    }
    return json.dumps({"mcpServers": {"outbound": entry}}, indent=2)


@dataclass(frozen=True)
class ToolSummary:
    """One tool the server offers."""

    name: str
    description: str


class ProbeFailed(Exception):
    """The server did not start or did not answer; ``str()`` is one sentence."""


def list_tools(settings: Settings, key: Secret, command: ServerCommand) -> tuple[ToolSummary, ...]:
    """Start ``outbound mcp`` with ``key`` over stdio and list its tools."""
    params = StdioServerParameters(
        command=command.command,
        args=list(command.args),
        env={**_base_env(), **server_env(settings, key)},
    )

    async def probe() -> tuple[ToolSummary, ...]:
        with anyio.fail_after(PROBE_TIMEOUT_S):
            async with Client(params) as client:
                tools = (await client.list_tools()).tools
        return tuple(ToolSummary(t.name, (t.description or "").split("\n")[0]) for t in tools)

    try:
        # A thread of its own, so no event loop of the caller's thread gets in the way.
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(anyio.run, probe).result()
    except TimeoutError as exc:
        raise ProbeFailed("The MCP server did not answer within a minute.") from exc
    except Exception as exc:
        raise ProbeFailed(
            "The MCP server did not start: check the key (it may be revoked or expired)."
        ) from exc


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "SYSTEMROOT"}}
