"""Demo mode in the dashboard: on with ``OUTBOUND_DEMO_MODE`` (``outbound up``), loopback only.

In demo mode the embedded broker keeps email codes in a local outbox instead of sending them;
the dashboard says so on every page and offers a developer outbox that opens only with the
management key (docs/security.md, "Email codes and demo mode"). A dashboard bound to anything
but loopback refuses demo mode when it starts (``refusal``), the broker likewise; and, whatever
server runs the app, ``LoopbackOnly`` answers no request that arrived on a non-loopback address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

DEMO_MODE_ENV = "OUTBOUND_DEMO_MODE"


def demo_mode_on(env: Mapping[str, str]) -> bool:
    """Whether ``OUTBOUND_DEMO_MODE`` asks for demo mode."""
    return env.get(DEMO_MODE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def is_loopback(address: str | None) -> bool:
    """Whether a bind address is loopback only (an empty one means every interface)."""
    name = (address or "").strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def refusal(env: Mapping[str, str], address: str | None) -> str | None:
    """Why the dashboard must not start in demo mode on ``address``, or None when it may."""
    if not demo_mode_on(env) or is_loopback(address):
        return None
    where = address or "every interface"
    return (
        f"Demo mode runs on loopback only, and the dashboard is bound to {where}: start it with "
        f"--server.address 127.0.0.1, or turn demo mode off ({DEMO_MODE_ENV}=0)."
    )


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class LoopbackOnly:
    """ASGI middleware for demo mode: a request that came in on a non-loopback address gets 403.

    ``scope["server"]`` is the local address of the connection, so this holds however the app
    was started (``streamlit run`` or any ASGI server bound to every interface): people on this
    machine are served, people reaching it over the network are not.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        server = scope.get("server")
        host = server[0] if server else None
        if scope["type"] not in {"http", "websocket"} or (host is not None and is_loopback(host)):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = b"Demo mode serves this machine only (loopback)."
        headers = [(b"content-type", b"text/plain; charset=utf-8")]
        await send({"type": "http.response.start", "status": 403, "headers": headers})
        await send({"type": "http.response.body", "body": body})
