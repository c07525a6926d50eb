"""The MCP server: four tools acting for the access key's user, through the broker.

* ``list_connections`` — the user's apps: status, granted scopes, expiry (never a token).
* ``connect_app(app_id, scopes?)`` — a connect link for the user (the broker's normal connect),
  as a URL-mode elicitation when the client supports it, else as a link in the answer.
* ``call_provider(app_id, method, path, query?, json?)`` — the broker's proxy calls the
  provider's API with the user's token; a missing or dead connection, or a provider asking for
  a scope the grant lacks, becomes a connect elicitation instead of an error.
* ``connection_health(app_id?, status?)`` — admins only: counts and failing connections.

Every call is an ``agent_call`` lifecycle event (the proxy records its own; the others are
reported for this user). Errors the agent can act on are tool errors with one sentence.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import mcp_types as types
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from broker.errors import NEEDS_REAUTHORIZATION, TOKEN_NOT_FOUND
from broker.lifecycle.status_names import TokenStatus
from broker.mcp_server import elicit
from broker.mcp_server.broker_client import BrokerError, BrokerSession
from broker.mcp_server.models import (
    AppHealth,
    Connection,
    ConnectionList,
    ConnectLink,
    FailingConnection,
    Health,
    ProviderCall,
)

Method = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
_SCOPE_CHALLENGE = re.compile(r'error="insufficient_scope".*?scope="([^"]+)"')
INSTRUCTIONS = (
    "Tools that use the user's connected accounts (OAuth apps) through Outbound's broker. "
    "list_connections shows what is connected; call_provider calls an app's API (paths are "
    "relative to its first API base URL); when a connection is missing the user is asked to "
    "connect it. You never see or need the user's tokens."
)


def _agent_name(ctx: Context[Any, Any]) -> str:
    params = getattr(ctx.session, "client_params", None)
    info = getattr(params, "client_info", None)
    return str(getattr(info, "name", "") or "")


def _connection(raw: dict[str, Any]) -> Connection:
    expiry = raw.get("accessTokenExpiry")
    return Connection(
        app_id=raw["appId"],
        name=raw["name"],
        connected=raw["connected"],
        status=raw.get("status"),
        scopes=raw.get("scopes") or [],
        access_token_expiry=int(expiry) if expiry else None,
        has_refresh_token=raw.get("hasRefreshToken"),
        last_refresh_error=raw.get("lastRefreshError") or "",
        default_scopes=raw.get("defaultScopes") or [],
        api_base_urls=raw.get("apiBaseUrls") or [],
    )


def _answer(body: dict[str, Any]) -> ProviderCall:
    status = int(body["status"])
    return ProviderCall(
        outcome="ok" if status < 400 else "provider_error",
        status=status,
        headers=body.get("headers") or {},
        body=body.get("json"),
        text=body.get("text"),
        truncated=bool(body.get("truncated")),
        message="" if status < 400 else f"The provider answered HTTP {status}",
    )


class Tools:
    """The tools' bodies, bound to one broker session."""

    def __init__(self, session: BrokerSession) -> None:
        self.session = session

    async def _connected(self, app_id: str, scopes: list[str]) -> bool:
        for c in await self.session.connections():
            if c["appId"] == app_id:
                held = set(c.get("scopes") or [])
                return (
                    bool(c["connected"])
                    and c.get("status") != TokenStatus.NEEDS_REAUTH
                    and (set(scopes) <= held)
                )
        return False

    async def connect(
        self, ctx: Context[Any, Any], app_id: str, scopes: list[str], why: str
    ) -> ConnectLink | types.InputRequiredResult:
        """Send the user to a connect link (elicited) or hand the link over; wait if accepted."""
        earlier = elicit.answered(ctx)
        if earlier is None:
            # A key limited to some apps sees only those (the broker filters the list).
            if not any(c["appId"] == app_id for c in await self.session.connections()):
                raise ToolError(f"No app {app_id!r} is available to this access key")
            url = await self.session.connect_url(app_id, scopes or None)
            if not elicit.supports_url_elicitation(ctx):
                message = f"{why} Ask the user to open this link and approve: {url}".strip()
                return ConnectLink(app_id=app_id, outcome="link", url=url, message=message)
            prompt = f"{why} Open the link to connect {app_id}.".strip()
            asked = await elicit.ask(ctx, prompt, url)
            if isinstance(asked, elicit.Asked):
                return asked.result
            earlier = asked
        if earlier != "accept":
            return ConnectLink(
                app_id=app_id, outcome="declined", message=f"The user did not connect {app_id}."
            )
        if await elicit.wait_until_connected(lambda: self._connected(app_id, scopes)):
            return ConnectLink(
                app_id=app_id, outcome="connected", message=f"{app_id} is connected."
            )
        return ConnectLink(
            app_id=app_id,
            outcome="pending",
            message=f"The user opened the link but has not finished connecting {app_id} yet.",
        )

    async def call(
        self, ctx: Context[Any, Any], body: dict[str, Any]
    ) -> ProviderCall | types.InputRequiredResult:
        """One proxied call; a missing connection or scope turns into a connect."""
        app_id = body["appId"]
        needed: list[str] = []
        if elicit.answered(ctx) is None:
            try:
                answer = _answer((await self.session.proxy(body)).json())
            except BrokerError as exc:
                if exc.code not in (TOKEN_NOT_FOUND, NEEDS_REAUTHORIZATION):
                    raise ToolError(exc.message) from exc
                why = (
                    f"{app_id} must be connected again."
                    if exc.code == NEEDS_REAUTHORIZATION
                    else f"{app_id} is not connected."
                )
            else:
                challenge = _SCOPE_CHALLENGE.search(answer.headers.get("www-authenticate", ""))
                if answer.status != 403 or challenge is None:
                    return answer
                needed = await self._scopes_with(app_id, challenge.group(1).split())
                why = f"{app_id} needs more access ({challenge.group(1)})."
        else:
            why = ""
        link = await self.connect(ctx, app_id, needed, why)
        if isinstance(link, types.InputRequiredResult):
            return link
        if link.outcome == "connected":
            return _answer((await self.session.proxy(body)).json())
        return ProviderCall(outcome="connect_required", connect_url=link.url, message=link.message)

    async def _scopes_with(self, app_id: str, more: list[str]) -> list[str]:
        for c in await self.session.connections():
            if c["appId"] == app_id:
                return sorted(set(c.get("scopes") or []) | set(more))
        return more


def build_server(session: BrokerSession) -> MCPServer:
    """The MCP server for one user's broker session."""
    server = MCPServer("outbound", instructions=INSTRUCTIONS, version="0.1.0")
    tools = Tools(session)

    async def report(ctx: Context[Any, Any], tool: str, app_id: str, outcome: str) -> None:
        await session.report(tool, app_id, outcome, _agent_name(ctx))

    @server.tool()
    async def list_connections(ctx: Context[Any, Any]) -> ConnectionList:
        """The user's apps and connections: status, granted scopes, expiry. Never a token."""
        try:
            found = ConnectionList(
                connections=[_connection(c) for c in await session.connections()]
            )
        except BrokerError as exc:
            await report(ctx, "list_connections", "", "error")
            raise ToolError(exc.message) from exc
        await report(ctx, "list_connections", "", "ok")
        return found

    @server.tool()
    async def connect_app(
        ctx: Context[Any, Any],
        app_id: Annotated[str, Field(min_length=1, max_length=128, description="The app's id")],
        scopes: Annotated[
            list[str] | None, Field(description="Scopes to ask for; default: the app's defaults")
        ] = None,
    ) -> ConnectLink | types.InputRequiredResult:
        """Ask the user to connect an app (or reconnect it with more scopes)."""
        try:
            link = await tools.connect(ctx, app_id, scopes or [], "")
        except BrokerError as exc:
            await report(ctx, "connect_app", app_id, "error")
            raise ToolError(exc.message) from exc
        if isinstance(link, ConnectLink):
            await report(ctx, "connect_app", app_id, link.outcome)
        return link

    @server.tool()
    async def call_provider(
        ctx: Context[Any, Any],
        app_id: Annotated[str, Field(min_length=1, max_length=128, description="The app's id")],
        method: Annotated[Method, Field(description="HTTP method")],
        path: Annotated[
            str,
            Field(
                min_length=1,
                max_length=2048,
                description="Path under the app's first API base URL (e.g. /me), or an "
                "absolute URL under one of its API base URLs",
            ),
        ],
        query: Annotated[dict[str, str] | None, Field(description="Query parameters")] = None,
        json: Annotated[Any, Field(description="JSON body (not for GET/HEAD)")] = None,
    ) -> ProviderCall | types.InputRequiredResult:
        """Call the app's API as the user; the broker adds the user's token."""
        body = {
            "appId": app_id,
            "method": method,
            "path": path,
            "query": query,
            "json": json,
            "agent": _agent_name(ctx),
            "tool": "call_provider",
        }
        try:
            return await tools.call(ctx, body)
        except BrokerError as exc:
            raise ToolError(exc.message) from exc

    @server.tool()
    async def connection_health(
        ctx: Context[Any, Any],
        app_id: Annotated[str | None, Field(description="Only this app")] = None,
        status: Annotated[
            str | None, Field(description="Only this status (default: the failing ones)")
        ] = None,
    ) -> Health:
        """Administrators: connections by status per app, and the failing ones."""
        try:
            raw = await session.health(app_id or "", status or "")
        except BrokerError as exc:
            await report(ctx, "connection_health", app_id or "", "forbidden")
            raise ToolError(exc.message) from exc
        await report(ctx, "connection_health", app_id or "", "ok")
        return Health(
            apps=[AppHealth(app_id=a["appId"], counts=a["counts"]) for a in raw["apps"]],
            connections=[
                FailingConnection(
                    app_id=c["appId"],
                    user_id=c["userId"],
                    token_id=c["tokenId"],
                    status=c["status"],
                    last_refresh_error=c["lastRefreshError"],
                    failure_count=c["failureCount"],
                )
                for c in raw["connections"]
            ],
        )

    return server
