"""Strict mode (``outbound broker --strict-descope``): only Descope's own surface, as the cloud.

The broker is then the stand-in for Descope's cloud the dashboard is tested against
(tests/app, tests/e2e run in both modes). ``StrictResponses`` is the one switch, the outermost
layer the app puts around everything in strict mode; nothing else in the broker knows about it:

* no ``/v1/x/`` endpoint, nor ``/metrics`` and the API docs pages: they answer 404
  ``E011006``, as the cloud answers an unknown path;
* no extra response fields: the OutboundApp and OutboundAppToken objects carry only the fields
  of Descope's schema (reference §3.1, §3.3), deletes answer ``{}``;
* no extra query parameters on redirects: the consent callback lands on the caller's
  ``redirectUrl`` exactly as given (what Descope adds there is undocumented, reference §10.7);
* Descope's error codes only: a code Descope does not document (reference §6) becomes the
  generic code of its HTTP status, with the status, description and message kept.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from broker.errors import (
    BAD_REQUEST,
    ENCHANTED_LINK_PENDING,
    GENERIC_CODES,
    MANAGEMENT_USER_NOT_FOUND,
    NOT_FOUND,
    NOTP_UNAUTHORIZED,
    PASSWORD_EXPIRED,
    RATE_LIMITED,
    SERVER_ERROR,
    TOKEN_EXPIRED_BY_LOGOUT,
    TOKEN_NOT_FOUND,
    TOO_MANY_OTP_ATTEMPTS,
    UNAUTHORIZED,
    USER_EXISTS,
    USER_NOT_FOUND,
    WRONG_OTP_CODE,
    NotFound,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Paths of this broker that are not Descope's (its extensions, metrics, FastAPI's API docs).
NOT_DESCOPE = ("/v1/x/", "/metrics", "/docs", "/redoc", "/openapi.json")
CALLBACK_PATH = "/v1/outbound/oauth/callback"

# reference §3.1 (go/node types, the python SDK's body, the docs' response schema)
APP_FIELDS = frozenset(
    {
        "id",
        "name",
        "description",
        "logo",
        "clientId",
        "templateId",
        "discoveryUrl",
        "authorizationUrl",
        "authorizationUrlParams",
        "tokenUrl",
        "tokenUrlParams",
        "revocationUrl",
        "defaultScopes",
        "defaultRedirectUrl",
        "callbackDomain",
        "pkce",
        "accessType",
        "prompt",
        "appType",
        "useDcr",
        "dcrUrl",
        "tenantId",
    }
)
# reference §3.3 (docs schema, go OutboundAppUserToken, node OutboundAppToken)
TOKEN_FIELDS = frozenset(
    {
        "id",
        "appId",
        "userId",
        "tenantId",
        "tokenSub",
        "accessToken",
        "accessTokenType",
        "accessTokenExpiry",
        "hasRefreshToken",
        "refreshToken",
        "lastRefreshTime",
        "lastRefreshError",
        "scopes",
        "grantedBy",
        "externalIdentifier",
    }
)
# Error codes Descope's SDKs, docs and issues attest (reference §6); E0110xx is its generic
# request family (bad request, not found, method not allowed, too large, unavailable).
DESCOPE_CODES = frozenset(
    GENERIC_CODES
    | {UNAUTHORIZED, WRONG_OTP_CODE, TOO_MANY_OTP_ATTEMPTS, USER_EXISTS, USER_NOT_FOUND}
    | {ENCHANTED_LINK_PENDING, PASSWORD_EXPIRED, TOKEN_EXPIRED_BY_LOGOUT, NOTP_UNAUTHORIZED}
    | {TOKEN_NOT_FOUND, MANAGEMENT_USER_NOT_FOUND, RATE_LIMITED}
)
_GENERIC_BY_STATUS = {401: UNAUTHORIZED, 404: NOT_FOUND, 429: RATE_LIMITED}
# The query parameters the broker's consent callback adds to the caller's redirect URL.
CALLBACK_PARAMS = frozenset(
    {
        "outbound",
        "appId",
        "tokenId",
        "scopes",
        "tenantId",
        "externalIdentifier",
        "requestedScopes",
        "hasRefreshToken",
        "error",
        "errorDescription",
    }
)


def _only(obj: Any, fields: frozenset[str]) -> Any:
    return {k: v for k, v in obj.items() if k in fields} if isinstance(obj, dict) else obj


def descope_body(path: str, body: dict[str, Any]) -> dict[str, Any]:
    """A success body as Descope's schema has it: extension fields dropped."""
    if not path.startswith("/v1/mgmt/outbound/"):
        return body
    if "token" in body:
        return {**body, "token": _only(body["token"], TOKEN_FIELDS)}
    if "app" in body:
        return {**body, "app": _only(body["app"], APP_FIELDS)}
    if isinstance(body.get("apps"), list):
        return {**body, "apps": [_only(a, APP_FIELDS) for a in body["apps"]]}
    if "revocations" in body:  # token deletes: Descope answers {}
        return {k: v for k, v in body.items() if k != "revocations"}
    return body


def descope_error(status: int, body: dict[str, Any]) -> dict[str, Any]:
    """An error body with a code Descope documents (the generic one of its status otherwise)."""
    code = body.get("errorCode")
    if code in DESCOPE_CODES:
        return body
    generic = _GENERIC_BY_STATUS.get(status, BAD_REQUEST if status < 500 else SERVER_ERROR)
    return {**body, "errorCode": generic}


def plain_redirect(location: str) -> str:
    """The callback's redirect without the broker's own query parameters."""
    parts = urlsplit(location)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    kept = [(k, v) for k, v in kept if k not in CALLBACK_PARAMS]
    return urlunsplit(parts._replace(query=urlencode(kept)))


class StrictResponses:
    """Pure ASGI middleware rewriting JSON bodies and the callback's redirect (see module doc)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if path.startswith(NOT_DESCOPE):
            await _not_found(send)
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def rewrite(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            status, headers, body = _rewritten(path, start, b"".join(chunks))
            await send({**start, "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, rewrite)


def _rewritten(
    path: str, start: Message, body: bytes
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    status: int = start["status"]
    headers: list[tuple[bytes, bytes]] = list(start.get("headers", []))
    names = [k.lower() for k, _ in headers]
    if path == CALLBACK_PATH and b"location" in names:
        i = names.index(b"location")
        headers[i] = (headers[i][0], plain_redirect(headers[i][1].decode("latin-1")).encode())
    if b"application/json" not in dict(zip(names, (v for _, v in headers), strict=True)).get(
        b"content-type", b""
    ):
        return status, headers, body
    try:
        data = json.loads(body)
    except ValueError:
        return status, headers, body
    if isinstance(data, dict):
        data = descope_error(status, data) if status >= 400 else descope_body(path, data)
    new = json.dumps(data, separators=(",", ":")).encode()
    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(new)).encode()))
    return status, headers, new


async def _not_found(send: Send) -> None:
    """404 ``E011006``, as the cloud answers a path it does not know."""
    body = json.dumps(NotFound("Endpoint not found").body()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 404, "headers": headers})
    await send({"type": "http.response.body", "body": body})
