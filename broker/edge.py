"""The broker's one middleware: the request body limit and CORS, in one pass over the headers.

Pure ASGI (no ``BaseHTTPMiddleware``). Per request it reads the headers once; then

* a declared ``Content-Length`` over the limit is answered 413 at once (Descope-shaped); a
  chunked body (``Transfer-Encoding``, no declared length) is counted as it arrives and cut off
  with a 413 at the limit; a declared length within the limit needs no counting (the HTTP parser
  delivers no more than it declares), nor does a request with neither header (HTTP/1.1: it has
  no body), so the hot paths (a fetch: a small JSON body; a health probe: none) are not
  wrapped;
* a request with an ``Origin`` goes through Starlette's ``CORSMiddleware`` (preflights, allowed
  origins, credentials) unchanged; one without gets only the ``Vary: Origin`` that middleware
  would have added, without building its header objects.

Measured in docs/performance.md (broker CPU per request, before/after).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi.responses import JSONResponse
from starlette.middleware.cors import CORSMiddleware

from broker.errors import DescopeError, PayloadTooLarge

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

VARY_ORIGIN = (b"vary", b"Origin")


class Edge:
    """Body limit and CORS in front of ``app`` (see the module docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        allow_origins: Sequence[str],
        allow_origin_regex: str | None,
        allow_headers: Sequence[str],
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.cors = CORSMiddleware(
            app,
            allow_origins=allow_origins,
            allow_origin_regex=allow_origin_regex,
            allow_credentials=True,
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=allow_headers,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = Head.of(scope)
        if head.length is not None and head.length > self.max_bytes:
            await send_error(send, PayloadTooLarge())
            return
        inner: ASGIApp = self.cors if head.origin else self.app
        if not head.origin:
            send = _with_vary(send)
        if head.bounded:
            await inner(scope, receive, send)
        else:
            await _limited(inner, scope, receive, send, self.max_bytes)


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs 3× (every request)
class Head:
    """What the edge (and the fetch's fast path) read from a request's headers, in one pass.

    ``length``: the declared ``Content-Length`` (None when absent or not a number); ``bounded``:
    the body cannot outgrow what the HTTP parser was told (a declared length, or neither header:
    HTTP/1.1 then has no body); a chunked body, or a malformed length, is not.
    """

    length: int | None
    bounded: bool
    origin: bool
    content_type: bytes
    authorization: bytes
    project_id: bytes | None  # ``X-Descope-Project-Id``

    @classmethod
    def of(cls, scope: Scope) -> Head:
        """The head of ``scope``'s request."""
        declared: bytes | None = None
        origin = chunked = False
        content_type = authorization = b""
        project_id: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = value
            elif name == b"content-type":
                content_type = value
            elif name == b"authorization":
                authorization = value
            elif name == b"origin":
                origin = True
            elif name == b"transfer-encoding":
                chunked = True
            elif name == b"x-descope-project-id":
                project_id = value
        digits = declared is not None and declared.isdigit()
        return cls(
            length=int(declared) if digits else None,  # type: ignore[arg-type]
            bounded=not chunked and (digits or declared is None),
            origin=origin,
            content_type=content_type,
            authorization=authorization,
            project_id=project_id,
        )


def _with_vary(send: Send) -> Send:
    async def vary(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), VARY_ORIGIN]
        await send(message)

    return vary


async def _limited(app: ASGIApp, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    """``app`` with its body counted: a 413 (and a disconnect to the app) past ``limit``."""
    seen = 0
    answered = False

    async def counted() -> MutableMapping[str, Any]:
        nonlocal seen, answered
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                # Answer now and tell the app the client went away: FastAPI turns any error
                # raised while it reads the body into its own 400, which would hide the 413.
                if not answered:
                    answered = True
                    await send_error(send, PayloadTooLarge())
                return {"type": "http.disconnect"}
        return message

    async def send_unless_answered(message: MutableMapping[str, Any]) -> None:
        if not answered:
            await send(message)

    await app(scope, counted, send_unless_answered)


async def send_error(send: Send, error: DescopeError) -> None:
    """Send ``error`` as a whole Descope-shaped JSON response."""
    response = JSONResponse(error.body(), status_code=error.status, headers=error.headers())
    await send(
        {
            "type": "http.response.start",
            "status": response.status_code,
            "headers": response.raw_headers,
        }
    )
    await send({"type": "http.response.body", "body": response.body})
