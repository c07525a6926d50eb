"""The provider proxy behind ``call_provider``: the broker calls the provider's API with the
user's token, so the agent (and the MCP client) never holds it.

Policy, in the order it is checked (each refusal is one clear ``ProxyRefused`` sentence):

1. the method is one of ``ALLOWED_METHODS``; GET/HEAD carry no body;
2. an access-key session may reach only the key's apps (``appIds``);
3. the URL is the app's first API base joined with ``path`` (or an absolute URL), it holds no
   control characters, backslashes, user info or dot segments, and it lies under one of the
   API base URLs the catalog declares for the app (``api_bases``); the SSRF policy
   (``url_policy.check_outbound_url``) then applies to every request the broker sends;
4. caller headers: only ``CALLER_HEADERS``, values without CR/LF/NUL (no injection, and never
   ``Authorization``, ``Cookie`` or ``Host``); the JSON body is at most ``MAX_REQUEST_BYTES``.

The token comes from the vault through the normal fetch (refreshed when due); a provider 401
forces one refresh and one retry; the whole answer must arrive within ``ANSWER_DEADLINE_S``
(10 s per read, 5 s to connect). Redirects are followed (at most ``MAX_REDIRECTS``) only to
URLs under the app's API bases; any other ``Location`` is refused, the token never leaving for
another host. The answer keeps ``PASSED_HEADERS`` (``Retry-After`` included) and at most
``MAX_RESPONSE_BYTES`` of body (``truncated`` says so); the access token is replaced by
``[redacted]`` anywhere it appears in what is returned. Nothing logged holds the token, the
query string or a body.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from broker.agents.access_keys import key_of_session
from broker.agents.api_bases import ApiBase, api_bases
from broker.agents.calls import OK, record_agent_call
from broker.agents.wire import ProxyRequest
from broker.context import Broker
from broker.errors import (
    DescopeError,
    Forbidden,
    PayloadTooLarge,
    ProxyRefused,
    ProxyUpstreamError,
    TokenNotFound,
)
from broker.identity.auth import Caller
from broker.lifecycle.refresh import ReauthorizationRequired
from broker.outbound.tokens import Refreshed, fetch_token, refreshed_answer
from broker.outbound.wire import TokenFetchRequest, TokenOptions
from broker.providers.registration import find_app
from broker.providers.url_policy import guarded_client

log = logging.getLogger("broker.agents.proxy")

ALLOWED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
CALLER_HEADERS = frozenset({"accept", "accept-language", "if-match", "if-none-match", "prefer"})
PASSED_HEADERS = (
    "content-type",
    "retry-after",
    "www-authenticate",
    "etag",
    "last-modified",
    "link",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
)
MAX_REQUEST_BYTES = 256 * 1024
MAX_RESPONSE_BYTES = 1024 * 1024
MAX_REDIRECTS = 3
# The whole answer, however slowly it trickles in (the client's timeouts bound each read only).
ANSWER_DEADLINE_S = 30.0
REDACTED = "[redacted]"
_UNSAFE = re.compile(r"[\\\x00-\x20\x7f]")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,64}$")


@dataclass(frozen=True)
class ProxyAnswer:
    """What the provider answered, bounded and redacted; ``retry_after`` for the HTTP reply."""

    body: dict[str, Any]
    retry_after: str | None


def _target_url(bases: list[ApiBase], path: str) -> str:
    if _UNSAFE.search(path):
        raise ProxyRefused("The path holds spaces, control characters or backslashes")
    absolute = path.lower().startswith(("http://", "https://"))
    if not absolute and (not path.startswith("/") or path.startswith("//")):
        raise ProxyRefused("The path must start with a single '/' (or be an absolute URL)")
    url = path if absolute else bases[0].url() + path
    parts = urlsplit(url)
    if parts.username or parts.password or "@" in parts.netloc:
        raise ProxyRefused("URLs with user info are refused")
    if any(seg in {".", ".."} for seg in unquote(parts.path).split("/")):
        raise ProxyRefused("Paths with '.' or '..' segments are refused")
    _check_under(bases, url)
    return url


def _check_under(bases: list[ApiBase], url: str) -> None:
    if not any(b.admits(url) for b in bases):
        allowed = ", ".join(b.url() for b in bases)
        raise ProxyRefused(
            f"{urlsplit(url).scheme}://{urlsplit(url).netloc} is not one of this app's "
            f"API base URLs ({allowed})"
        )


def _caller_headers(given: dict[str, str] | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in (given or {}).items():
        if not _HEADER_NAME.match(name) or name.lower() not in CALLER_HEADERS:
            raise ProxyRefused(
                f"Header {name[:64]!r} may not be set; allowed: {', '.join(sorted(CALLER_HEADERS))}"
            )
        if any(c in value for c in "\r\n\x00") or len(value) > 1024:
            raise ProxyRefused(f"The value of header {name} holds a line break or is too long")
        headers[name.lower()] = value
    return headers


def _body(req: ProxyRequest, method: str) -> bytes | None:
    if req.json_body is None:
        return None
    if method in ("GET", "HEAD"):
        raise ProxyRefused(f"A {method} request carries no body")
    raw = json.dumps(req.json_body, separators=(",", ":")).encode()
    if len(raw) > MAX_REQUEST_BYTES:
        raise PayloadTooLarge(f"The JSON body is over {MAX_REQUEST_BYTES // 1024} KiB")
    return raw


def _read_bounded(response: httpx.Response) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    deadline = time.monotonic() + ANSWER_DEADLINE_S
    for chunk in response.iter_bytes():
        if time.monotonic() > deadline:
            raise ProxyUpstreamError(
                f"The provider did not finish answering within {ANSWER_DEADLINE_S:g} seconds"
            )
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            return b"".join(chunks)[:MAX_RESPONSE_BYTES], True
    return b"".join(chunks), False


def _redact(text: str, token: str) -> str:
    return text.replace(token, REDACTED) if token else text


def _answer(response: httpx.Response, raw: bytes, truncated: bool, token: str) -> ProxyAnswer:
    text = _redact(raw.decode("utf-8", errors="replace"), token)
    headers = {
        h: _redact(response.headers[h], token) for h in PASSED_HEADERS if h in response.headers
    }
    body: dict[str, Any] = {
        "status": response.status_code,
        "headers": headers,
        "url": str(response.request.url.copy_with(query=None)),
        "truncated": truncated,
    }
    parsed: Any = None
    if not truncated and "json" in headers.get("content-type", "") and text:
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
    if parsed is not None:
        body["json"] = parsed
    else:
        body["text"] = text
    return ProxyAnswer(body=body, retry_after=headers.get("retry-after"))


class _Call:
    """One proxied call: the target, the user's token, and the redirect loop."""

    def __init__(self, broker: Broker, caller: Caller, req: ProxyRequest) -> None:
        self.broker, self.caller, self.req = broker, caller, req
        self.token_id = ""
        self.token = ""

    def fetch(self, *, force: bool) -> None:
        request = TokenFetchRequest(
            app_id=self.req.app_id,
            user_id=self.caller.user_id,
            options=TokenOptions(force_refresh=True) if force else None,
        )
        answer = fetch_token(self.broker, request, tenant_level=False, by_scopes=False)
        wire = (
            refreshed_answer(self.broker, answer, request, on_loop=False)
            if isinstance(answer, Refreshed)
            else answer
        )
        self.token_id, self.token = str(wire["id"]), str(wire["accessToken"])

    def send(self, client: httpx.Client, method: str, url: str, body: bytes | None) -> ProxyAnswer:
        headers = _caller_headers(self.req.headers)
        headers["authorization"] = f"Bearer {self.token}"
        if body is not None:
            headers["content-type"] = "application/json"
        request = client.build_request(method, url, headers=headers, content=body)
        response = client.send(request, stream=True)
        try:
            raw, truncated = _read_bounded(response)
        finally:
            response.close()
        answer = _answer(response, raw, truncated, self.token)
        answer.body["location"] = response.headers.get("location", "")
        return answer


_FAILURES: dict[type[DescopeError], str] = {
    TokenNotFound: "not_connected",
    ReauthorizationRequired: "needs_reauth",
    Forbidden: "forbidden",
    ProxyUpstreamError: "unreachable",
}


def proxy_call(broker: Broker, caller: Caller, req: ProxyRequest) -> ProxyAnswer:
    """Make one call to the app's API with the caller's token; record it as an agent call."""
    method = req.method.upper()
    call = _Call(broker, caller, req)
    facts: dict[str, Any] = {"method": method, "path": urlsplit(req.path).path[:200]}
    try:
        answer = _proxy(broker, caller, req, method, call)
    except DescopeError as exc:
        failed: DescopeError | None = exc
        facts.update(outcome=_FAILURES.get(type(exc), "refused"), error=exc.code)
    else:
        failed = None
        status = int(answer.body["status"])
        facts.update(outcome=OK if status < 400 else "provider_error", status=status)
        log.info("proxied call", extra={"app_id": req.app_id, "method": method, "status": status})
    record_agent_call(
        broker,
        user_id=caller.user_id or "",
        app_id=req.app_id,
        token_id=call.token_id,
        agent=req.agent or "",
        tool=req.tool or "call_provider",
        **facts,
    )
    if failed is not None:
        raise failed
    return answer


def _proxy(
    broker: Broker, caller: Caller, req: ProxyRequest, method: str, call: _Call
) -> ProxyAnswer:
    if method not in ALLOWED_METHODS:
        raise ProxyRefused(f"Method {method[:10]} is not allowed; use {', '.join(ALLOWED_METHODS)}")
    key = key_of_session(broker, caller.claims)
    if key is not None and key.app_ids and req.app_id not in key.app_ids:
        raise Forbidden(f"This access key may not reach app {req.app_id}")
    with broker.db.session() as s:
        bases = api_bases(find_app(s, req.app_id))
    if not bases:
        raise ProxyRefused(f"App {req.app_id} declares no API base URLs (catalog api_base_urls)")
    url = _target_url(bases, req.path)
    if req.query:
        url = str(httpx.URL(url).copy_merge_params(req.query))
    _caller_headers(req.headers)  # refuse bad headers before the token is even read
    body = _body(req, method)
    call.fetch(force=False)
    with guarded_client(broker.settings) as client:
        try:
            answer = _follow(client, call, bases, method, url, body)
            if answer.body["status"] == 401:
                call.fetch(force=True)
                answer = _follow(client, call, bases, method, url, body)
        except httpx.TimeoutException as exc:
            raise ProxyUpstreamError("The provider did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise ProxyUpstreamError(
                f"The provider could not be reached ({type(exc).__name__})"
            ) from exc
    answer.body.pop("location", None)
    return answer


def _follow(
    client: httpx.Client,
    call: _Call,
    bases: list[ApiBase],
    method: str,
    url: str,
    body: bytes | None,
) -> ProxyAnswer:
    for _ in range(MAX_REDIRECTS + 1):
        answer = call.send(client, method, url, body)
        location = str(answer.body.get("location") or "")
        if answer.body["status"] not in (301, 302, 303, 307, 308) or not location:
            return answer
        url = urljoin(url, location)
        try:
            _check_under(bases, url)
        except ProxyRefused as exc:
            parts = urlsplit(url)
            raise ProxyUpstreamError(
                f"The provider redirected to {parts.scheme}://{parts.netloc}, outside this "
                "app's API base URLs; not followed (the token stays with the broker)"
            ) from exc
        if answer.body["status"] == 303 or (
            answer.body["status"] in (301, 302) and method == "POST"
        ):
            method, body = "GET", None
    raise ProxyUpstreamError(f"The provider redirected more than {MAX_REDIRECTS} times")
