"""Sending the user (not the agent) to a connect link: URL-mode elicitation (SEP-1036).

Protocol eras differ: up to 2025-11-25 the server sends ``elicitation/create`` mid-call and the
client answers; from 2026-07-28 a tool returns ``InputRequiredResult`` and the client retries
the call with the user's answer in ``input_responses``. ``ask`` hides the difference: it
answers ``Asked`` (return it), or the user's action. Accepting means the user went to the link;
``wait_until_connected`` then polls the broker until the connection exists (or gives up), and
tells the client the elicitation is complete.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import mcp_types as types
from mcp.server.mcpserver import Context
from mcp_types.version import is_version_at_least

CONNECT_INPUT = "connect"
MODERN = "2026-07-28"
Action = Literal["accept", "decline", "cancel"]


@dataclass(frozen=True)
class Asked:
    """The tool must return this result; the client retries the call with the user's answer."""

    result: types.InputRequiredResult


def supports_url_elicitation(ctx: Context[Any, Any]) -> bool:
    """Whether the client declared URL-mode elicitation."""
    caps = ctx.client_capabilities
    return bool(caps and caps.elicitation and caps.elicitation.url is not None)


def answered(ctx: Context[Any, Any]) -> Action | None:
    """The user's action on a connect asked in an earlier round of this call (2026-07-28+)."""
    response = (ctx.input_responses or {}).get(CONNECT_INPUT)
    if isinstance(response, types.ElicitResult):
        return response.action
    return None


async def ask(ctx: Context[Any, Any], message: str, url: str) -> Asked | Action:
    """Ask the client to send its user to ``url``."""
    elicitation_id = f"connect-{secrets.token_hex(8)}"
    if is_version_at_least(ctx.protocol_version or "", MODERN):
        request = types.ElicitRequest(
            params=types.ElicitRequestURLParams(
                message=message, url=url, elicitation_id=elicitation_id
            )
        )
        return Asked(types.InputRequiredResult(input_requests={CONNECT_INPUT: request}))
    result = await ctx.elicit_url(message=message, url=url, elicitation_id=elicitation_id)
    return result.action


def wait_seconds() -> float:
    """How long to wait for a user who accepted to finish connecting."""
    return float(os.environ.get("OUTBOUND_MCP_CONNECT_WAIT", "120"))


async def wait_until_connected(is_connected: Callable[[], Awaitable[bool]]) -> bool:
    """Poll until ``is_connected()`` or the wait runs out."""
    deadline = time.monotonic() + wait_seconds()
    while True:
        if await is_connected():
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(1.0)
