"""Running ``outbound mcp``: check the key against the broker, then serve stdio or loopback HTTP.

Only the MCP protocol goes to stdout (stdio transport); everything else goes to stderr. The
HTTP transport binds 127.0.0.1 only: whoever reaches it acts as the key's user.
"""

from __future__ import annotations

import sys

import anyio
import httpx

from broker.mcp_server.broker_client import BrokerError, BrokerSession, McpSettings
from broker.mcp_server.server import build_server


async def _serve(session: BrokerSession, transport: str, port: int) -> int:
    try:
        await session.connections()  # exchanges the key: a wrong key fails here, clearly
    except BrokerError as exc:
        print(f"outbound mcp: {exc.message}", file=sys.stderr)
        return 2
    except httpx.HTTPError:
        print(
            f"outbound mcp: the broker at {session.settings.broker_url} is not reachable",
            file=sys.stderr,
        )
        return 2
    server = build_server(session)
    try:
        if transport == "http":
            print(f"outbound mcp: serving http://127.0.0.1:{port}/mcp", file=sys.stderr)
            await server.run_streamable_http_async(host="127.0.0.1", port=port)
        else:
            await server.run_stdio_async()
    finally:
        await session.aclose()
    return 0


def run(transport: str, port: int) -> int:
    """Serve until the client goes away (stdio) or Ctrl-C (http); 2 on a configuration error."""
    try:
        settings = McpSettings.from_env()
    except ValueError as exc:
        print(f"outbound mcp: {exc}", file=sys.stderr)
        return 2
    code: int = anyio.run(_serve, BrokerSession(settings), transport, port)
    return code
