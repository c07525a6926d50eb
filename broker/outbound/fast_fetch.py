"""The token fetch's fast path: a fresh token answered in front of FastAPI's whole stack.

The four fetch endpoints (``token_routes``) are the broker's hot path: a backend fetches a
token before every provider call. FastAPI and its middleware stack spend more per request than
the fetch itself costs (docs/performance.md), so this pure ASGI layer, the outermost one
(``broker.app.BrokerApp``), answers the one common case itself — a management key already
known, a well-formed JSON body of a declared length, no ``Origin`` (CORS stays the edge's), a
token usable now (``tokens.fresh_token``: one indexed read on the event loop's connection) —
with the very bytes and headers the endpoint and the edge would send. Anything else goes on,
body replayed, to the stack, which decides exactly as before: a forced or due refresh, no
token, an unknown or wrong key (counted and throttled there), a malformed body (answered in
Descope's shape there), a dead grant, an error of any kind (the stack's handlers answer it).

The checks here are the endpoint's own checks: ``split_bearer`` (what ``parse_bearer`` does
with the same two headers) and ``ManagementKeys.is_known`` (what ``require_management``
passes on the loop), and the same body model. ``tests/broker/test_fetch_fast_path.py`` pins
the endpoints' dependencies, so a check added to those endpoints fails a test until it is
applied here too, and compares this path's answer with the endpoint's, byte for byte.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from pydantic_core import to_json

from broker.context import Broker
from broker.edge import VARY_ORIGIN, ASGIApp, Head, Receive, Scope, Send
from broker.identity.auth import split_bearer
from broker.outbound import tokens
from broker.outbound.wire import TokenFetchRequest

# path -> (tenant_level, by_scopes), as the endpoints in ``token_routes`` call ``_token_answer``.
FETCH_PATHS = {
    "/v1/mgmt/outbound/app/user/token": (False, True),
    "/v1/mgmt/outbound/app/user/token/latest": (False, False),
    "/v1/mgmt/outbound/app/tenant/token": (True, True),
    "/v1/mgmt/outbound/app/tenant/token/latest": (True, False),
}
MAX_FAST_BODY = 64 * 1024  # a fetch body is a few hundred bytes; larger ones take the stack


class FastFetch:
    """Answers a fresh-token fetch itself; passes everything else to ``app`` (see above)."""

    def __init__(self, app: ASGIApp, broker: Broker) -> None:
        self.app = app
        self.broker = broker

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        shape = FETCH_PATHS.get(scope["path"]) if scope["type"] == "http" else None
        head = Head.of(scope) if shape is not None and scope["method"] == "POST" else None
        if shape is None or head is None or not _fast_kind(head):
            await self.app(scope, receive, send)
            return
        messages: list[MutableMapping[str, Any]] = []
        while True:  # bounded: the HTTP parser delivers no more than the declared length
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        answer = None
        if messages[-1]["type"] == "http.request":
            body = b"".join(m.get("body", b"") for m in messages)
            answer = self._fresh_answer(head, body, *shape)
        if answer is not None:
            await send({"type": "http.response.start", "status": 200, "headers": _headers(answer)})
            await send({"type": "http.response.body", "body": answer})
            return

        async def replay() -> MutableMapping[str, Any]:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    def _fresh_answer(
        self, head: Head, body: bytes, tenant_level: bool, by_scopes: bool
    ) -> bytes | None:
        """The endpoint's body when it is a fresh token; None when the stack must decide."""
        broker = self.broker
        try:
            bearer = split_bearer(
                head.authorization.decode("latin-1"),
                head.project_id.decode("latin-1") if head.project_id is not None else None,
                broker.project_id,
            )
            key = bearer.management_key
            if not key or not broker.management_keys.is_known(key):
                return None
            fetch = TokenFetchRequest.model_validate_json(body)
            token = tokens.fresh_token(
                broker, fetch, tenant_level=tenant_level, by_scopes=by_scopes
            )
        except Exception:  # the stack answers every error, in Descope's shape
            return None
        return json_body({"token": token}) if token is not None else None


def _fast_kind(head: Head) -> bool:
    """A request this path may answer: a JSON body of a small declared length, no ``Origin``."""
    return (
        not head.origin
        and head.bounded
        and head.length is not None
        and head.length <= MAX_FAST_BODY
        and head.content_type.startswith(b"application/json")
    )


def json_body(content: Any) -> bytes:
    """``content`` as Starlette's ``JSONResponse`` encodes it (compact, UTF-8), by pydantic's
    encoder: the same bytes for a token's values (text, integers, booleans, lists and maps of
    them; no floats), in half the time of ``json.dumps``. The test compares this path's answer
    with the endpoint's, byte for byte."""
    return to_json(content)


def _headers(body: bytes) -> list[tuple[bytes, bytes]]:
    """``JSONResponse``'s headers for ``body``, and the ``Vary`` the edge adds."""
    return [
        (b"content-length", str(len(body)).encode("latin-1")),
        (b"content-type", b"application/json"),
        VARY_ORIGIN,
    ]
