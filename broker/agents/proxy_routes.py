"""Agent extension endpoints (not part of Descope's API; absent in strict mode's spirit):

* ``POST /v1/x/outbound/proxy`` (user session or access-key session): one provider API call
  with the caller's token → ``{status, headers, url, truncated, json | text}``; a provider
  ``Retry-After`` is also set on this reply. Errors: 400 ``E113101`` refused, 413 body too
  large, 404 ``E111504`` not connected, 404 ``E111505`` needs re-authorization, 403 outside
  the access key's apps, 502 ``E113102`` provider unreachable or redirected off-base.
* ``GET /v1/x/outbound/connections`` (user): the caller's apps and connections, no tokens.
* ``GET /v1/x/agents/health?appId=&status=`` (admin role or management key): counts by
  status and the failing connections.
* ``POST /v1/x/agents/calls`` (user): record one of the caller's own agent tool calls.
* ``GET /v1/x/agents/calls/summary?days=`` (admin role or management key): calls and failures
  per app.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from broker.agents.calls import agent_call_summary, record_agent_call
from broker.agents.connections import connection_health, is_admin, user_connections
from broker.agents.proxy import proxy_call
from broker.agents.wire import AgentCallReport, ProxyRequest
from broker.context import broker_of
from broker.errors import Forbidden
from broker.identity.auth import Caller, SessionUser, parse_bearer, require_session_user
from broker.identity.throttle import management_key_ok
from broker.store.db import now_s

router = APIRouter(tags=["extensions"])


def _management_or_session(request: Request) -> Caller:
    """A management key, or else a user's session (or refresh) JWT, e.g. an access key's."""
    if management_key_ok(request, parse_bearer(request).management_key):
        return Caller(kind="management", user_id=None, claims={})
    return require_session_user(request)


AdminCandidate = Annotated[Caller, Depends(_management_or_session)]


@router.post("/v1/x/outbound/proxy")
def proxy(body: ProxyRequest, request: Request, caller: SessionUser) -> JSONResponse:
    """Call the app's API with the caller's token; the token never leaves the broker."""
    answer = proxy_call(broker_of(request), caller, body)
    headers = {"Retry-After": answer.retry_after} if answer.retry_after else None
    return JSONResponse(answer.body, headers=headers)


@router.get("/v1/x/outbound/connections")
def connections(request: Request, caller: SessionUser) -> dict[str, Any]:
    """The caller's apps and connection metadata (status, scopes, expiry; never a token)."""
    return {"connections": user_connections(broker_of(request), caller)}


@router.get("/v1/x/agents/health")
def health(
    request: Request,
    caller: AdminCandidate,
    app_id: Annotated[str, Query(alias="appId", max_length=128)] = "",
    status: Annotated[str, Query(max_length=32)] = "",
) -> dict[str, Any]:
    """Connection health across users (admins)."""
    return connection_health(broker_of(request), caller, app_id, status)


@router.post("/v1/x/agents/calls")
def report_call(body: AgentCallReport, request: Request, caller: SessionUser) -> dict[str, Any]:
    """Record one agent tool call of the caller's own (user id from the session, not the body)."""
    record_agent_call(
        broker_of(request),
        user_id=caller.user_id or "",
        app_id=body.app_id,
        token_id="",
        agent=body.agent,
        tool=body.tool,
        outcome=body.outcome,
        reported=True,
        note=body.detail,
    )
    return {}


@router.get("/v1/x/agents/calls/summary")
def calls_summary(
    request: Request,
    caller: AdminCandidate,
    days: Annotated[float, Query(gt=0, le=366)] = 7,
) -> dict[str, Any]:
    """Agent calls and failures per app over the last ``days`` (admins)."""
    broker = broker_of(request)
    if not is_admin(broker, caller):
        raise Forbidden("Agent call figures are for administrators only")
    return {"apps": agent_call_summary(broker, now_s() - days * 86400)}
