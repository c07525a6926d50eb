"""The token fetch's fast path: a fresh token answered before FastAPI's machinery.

The four fetch endpoints (``token_routes``) are the broker's hot path: a backend fetches a
token before every provider call. FastAPI spends more per request on solving the endpoint's
dependencies and reading its body than the fetch itself costs (docs/performance.md), so this
pure ASGI middleware answers the one common case itself — a management key already known, a
well-formed JSON body, a token usable now (``tokens.fresh_token``: one indexed read on the
event loop's connection) — with the very bytes the endpoint would send (``JSONResponse`` of
the same dict). Anything else goes on, body replayed, to the endpoint, which decides exactly as
before: a forced or due refresh, no token, an unknown or wrong key (counted and throttled
there), a malformed body (answered in Descope's shape there), a dead grant.

The checks here are the endpoint's own checks, called the same way: ``parse_bearer`` and
``ManagementKeys.is_known`` (what ``require_management`` passes on the loop), and the same
body model. ``tests/broker/test_fetch_fast_path.py`` pins the endpoints' dependencies, so a
check added to those endpoints fails a test until it is applied here too.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.requests import Request

from broker.context import broker_of
from broker.edge import ASGIApp, Receive, Scope, Send
from broker.errors import DescopeError
from broker.identity.auth import parse_bearer
from broker.outbound import tokens
from broker.outbound.wire import TokenFetchRequest

# path -> (tenant_level, by_scopes), as the endpoints in ``token_routes`` call ``_token_answer``.
FETCH_PATHS = {
    "/v1/mgmt/outbound/app/user/token": (False, True),
    "/v1/mgmt/outbound/app/user/token/latest": (False, False),
    "/v1/mgmt/outbound/app/tenant/token": (True, True),
    "/v1/mgmt/outbound/app/tenant/token/latest": (True, False),
}
MAX_FAST_BODY = 64 * 1024  # a fetch body is a few hundred bytes; larger ones take the slow path


class FastFetch:
    """Answers a fresh-token fetch itself; passes everything else to ``app`` (see above)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        shape = FETCH_PATHS.get(scope["path"]) if scope["type"] == "http" else None
        if shape is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        messages: list[MutableMapping[str, Any]] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if not message.get("more_body", False) or size > MAX_FAST_BODY:
                break
        answer = None
        if messages[-1]["type"] == "http.request" and not messages[-1].get("more_body", False):
            body = b"".join(m.get("body", b"") for m in messages)
            answer = _fresh_answer(Request(scope), body, *shape)
        if answer is not None:
            await answer(scope, receive, send)
            return

        async def replay() -> MutableMapping[str, Any]:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


def _fresh_answer(
    request: Request, body: bytes, tenant_level: bool, by_scopes: bool
) -> JSONResponse | None:
    """The endpoint's answer when it is a fresh token; None when the endpoint must decide."""
    if not request.headers.get("content-type", "").startswith("application/json"):
        return None
    try:
        bearer = parse_bearer(request)
        broker = broker_of(request)
        key = bearer.management_key
        if not key or not broker.management_keys.is_known(key):
            return None
        fetch = TokenFetchRequest.model_validate_json(body)
        token = tokens.fresh_token(broker, fetch, tenant_level=tenant_level, by_scopes=by_scopes)
    except (DescopeError, ValidationError):
        return None  # the endpoint answers the same error, in Descope's shape
    return JSONResponse({"token": token}) if token is not None else None
