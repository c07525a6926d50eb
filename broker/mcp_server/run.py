"""Running ``outbound mcp``: check the key against the broker, then serve stdio or loopback HTTP.

Only the MCP protocol goes to stdout (stdio transport); everything else goes to stderr. The
HTTP transport binds 127.0.0.1 only and, since anyone on the machine can reach loopback, asks
every request for ``Authorization: Bearer <the same access key>`` (401 otherwise); the SDK's
DNS-rebinding protection checks ``Host`` and ``Origin``.
"""

from __future__ import annotations

import hmac
import sys

import anyio
import uvicorn

from broker.edge import ASGIApp, Receive, Scope, Send
from broker.mcp_server.broker_client import BrokerError, BrokerSession, McpSettings
from broker.mcp_server.server import build_server


def require_key(app: ASGIApp, key: str) -> ASGIApp:
    """Wrap ``app``: HTTP requests without ``Authorization: Bearer <key>`` get a bare 401."""
    expected = f"Bearer {key}".encode()

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, expected):
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [
                            (b"www-authenticate", b"Bearer"),
                            (b"content-type", b"text/plain"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": b"access key required"})
                return
        await app(scope, receive, send)

    return guarded


async def _serve_http(session: BrokerSession, port: int) -> None:
    app = build_server(session).streamable_http_app(host="127.0.0.1")
    guarded = require_key(app, session.settings.access_key.reveal())
    config = uvicorn.Config(guarded, host="127.0.0.1", port=port, log_level="warning")
    print(f"outbound mcp: serving http://127.0.0.1:{port}/mcp", file=sys.stderr, flush=True)
    await uvicorn.Server(config).serve()


async def _serve(session: BrokerSession, transport: str, port: int) -> int:
    try:
        await session.connections()  # exchanges the key: a wrong key fails here, clearly
    except BrokerError as exc:
        print(f"outbound mcp: {exc.message}", file=sys.stderr)
        return 2
    try:
        if transport == "http":
            await _serve_http(session, port)
        else:
            await build_server(session).run_stdio_async()
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
