"""Descope Flows for outbound apps: the two flows Descope's widget starts, and nothing more.

Descope's outbound-applications widget (npm ``@descope/outbound-applications-widget``) runs a
Descope Flow in a modal for each click: ``outbound-apps-connect`` and ``outbound-apps-disconnect``
(the ``connect-flow-id`` / ``disconnect-flow-id`` of its ``root.html``), through the flow web
component ``descope-wc``, which speaks ``POST /v1/flow/start`` and ``POST /v1/flow/next``. This
module answers those two flows on the same wire; it is not a flow engine (no screens, no
designer, no other flow ids: an unknown id is answered 404 in Descope's error shape).

``outbound-apps-connect`` (``options.outboundAppId``, ``options.location``):

1. start: the broker's own connect (``start_connect``: the same checks as
   ``/v1/outbound/oauth/connect``: session, app, redirect list, tenant rights) with the redirect URL =
   ``location`` plus the three parameters ``descope-wc`` resumes from after a redirect
   (``widget-flow=<flowId>`` re-opens the flow in the widget, ``descope-login-flow=<executionId>_2``
   and ``code``); answers ``action: "redirect"`` to the provider's consent page.
2. the provider, then the broker's callback (``/v1/outbound/oauth/callback``), then ``location``.
3. next: ``descope-wc`` sends ``input.exchangeCode`` = that ``code``; the broker checks it was
   issued for this execution and this user (sealed, bound to the execution id, 20 minutes;
   otherwise a 400). The code stands for connect binding's landing ``flow`` id: only the
   browser the callback sent back holds it, so with the user verifier on, ``next`` confirms the
   parked grant for its initiator (``confirm_started_flow``, found by the OAuth ``state`` this
   module chose and sealed in the code); a browser signed in as someone else gets the grant
   refused and revoked. It answers a redirect to ``location`` as the page gave it (sealed in the
   code too), with ``output: {outboundAppId, connected}``: the page loads again and the widget
   reads the connections once the grant is stored. (Answering ``completed`` instead races: the
   widget re-reads its list at load, while ``next`` may still be storing the grant, and after a
   completed redirect flow it re-reads only the user.) A refused or failed consent ends the same
   way, ``connected: false``: back on the page, which still says Connect (descope-wc has no
   screen here to show an error in; an error answer would leave its overlay open).

``outbound-apps-disconnect`` (``options.outboundAppId``): start revokes and deletes the session
user's tokens for the app (the same service as ``DELETE /v1/mgmt/outbound/user/tokens``) and
answers ``completed`` at once.

Both record the usual lifecycle events (``connected`` from the callback; ``revoked`` /
``disconnected`` from the deletion), since they go through the usual services. Both act on the
user's own (non-tenant) connections: the widget passes its ``tenant`` attribute to
apps-with-user-token only, never to the flows.
"""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from broker.context import Broker
from broker.crypto import SealError
from broker.errors import InvalidArguments, MissingArguments, NotFound, Unauthorized
from broker.identity.auth import Caller
from broker.outbound.connect import PENDING_TTL_S, start_connect
from broker.outbound.connect_flows import CONFIRM_WINDOW_S, confirm_started_flow
from broker.outbound.tokens import apps_with_user_token, delete_user_tokens
from broker.outbound.wire import ConnectOptions, ConnectRequest, FlowNextRequest, FlowStartRequest
from broker.providers.registration import find_app
from broker.providers.url_policy import check_redirect
from broker.store.db import now_s

CONNECT_FLOW = "outbound-apps-connect"
DISCONNECT_FLOW = "outbound-apps-disconnect"
FLOW_IDS = (CONNECT_FLOW, DISCONNECT_FLOW)
# descope-wc's own names (web-component: the redirect-return parameters it reads on load).
_RESUME_PARAMS = ("widget-flow", "descope-login-flow", "code")
_EXECUTION_SEPARATOR = "|#|"
_RESUME_STEP = "2"
# The consent (pending authorization) and then the confirmation each have 10 minutes.
_CODE_TTL_S = PENDING_TTL_S + CONFIRM_WINDOW_S


def _execution_id(flow_id: str) -> str:
    # Hex, not urlsafe base64: descope-wc splits "<executionId>_<stepId>" at every "_".
    return f"{flow_id}{_EXECUTION_SEPARATOR}{secrets.token_hex(16)}"


def _code_context(execution_id: str) -> str:
    return f"flow:{execution_id}:code"


def _app_id(req: FlowStartRequest) -> str:
    app_id = (req.options.outbound_app_id if req.options else None) or ""
    if not app_id:
        raise MissingArguments("options.outboundAppId is required")
    return app_id


def _resume_url(location: str, execution_id: str, code: str) -> str:
    """``location`` with the parameters descope-wc resumes from (stale ones replaced)."""
    parts = urlsplit(location)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    kept = [(k, v) for k, v in kept if k not in _RESUME_PARAMS]
    resume = [
        ("widget-flow", CONNECT_FLOW),
        ("descope-login-flow", f"{execution_id}_{_RESUME_STEP}"),
        ("code", code),
    ]
    query = urlencode(kept + resume)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _completed(execution_id: str, step_id: str) -> dict[str, Any]:
    return {
        "executionId": execution_id,
        "stepId": step_id,
        "status": "completed",
        "action": "",
        "screen": {"id": "", "state": {}},
        "authInfo": {},
    }


def _start_connect(broker: Broker, caller: Caller, req: FlowStartRequest) -> dict[str, Any]:
    app_id = _app_id(req)
    options = req.options
    location = (options.location if options else None) or ""
    if not location:
        raise MissingArguments("options.location is required (the page to come back to)")
    check_redirect(location, broker.settings)
    execution_id = _execution_id(CONNECT_FLOW)
    state = secrets.token_urlsafe(32)
    claim = {
        "user": caller.user_id,
        "app": app_id,
        "state": state,
        "location": location,
        "exp": now_s() + _CODE_TTL_S,
    }
    code = broker.ring.seal(json.dumps(claim), context=_code_context(execution_id))
    connect = ConnectRequest(
        app_id=app_id,
        options=ConnectOptions(
            redirect_url=_resume_url(location, execution_id, code),
            scopes=(options.outbound_app_scopes if options else None),
        ),
    )
    url = start_connect(broker, caller, connect, state=state)
    return {
        "executionId": execution_id,
        "stepId": "1",
        "status": "waiting",
        "action": "redirect",
        "redirect": {"url": url},
        "screen": {"id": "", "state": {}},
    }


def _start_disconnect(broker: Broker, caller: Caller, req: FlowStartRequest) -> dict[str, Any]:
    app_id = _app_id(req)
    if not caller.user_id:  # never "every user's tokens for the app"
        raise Unauthorized("The session names no user")
    with broker.db.session() as s:
        find_app(s, app_id)  # 404 in Descope's shape for an unknown app
    delete_user_tokens(broker, app_id, caller.user_id)
    return _completed(_execution_id(DISCONNECT_FLOW), "1")


def start_flow(broker: Broker, caller: Caller, req: FlowStartRequest) -> dict[str, Any]:
    """``POST /v1/flow/start`` for the two outbound flows; any other id is 404."""
    if req.flow_id == CONNECT_FLOW:
        return _start_connect(broker, caller, req)
    if req.flow_id == DISCONNECT_FLOW:
        return _start_disconnect(broker, caller, req)
    raise NotFound(f"Flow {req.flow_id!r} not found; this broker runs {', '.join(FLOW_IDS)}")


def next_flow(broker: Broker, caller: Caller, req: FlowNextRequest) -> dict[str, Any]:
    """``POST /v1/flow/next``: the connect flow resuming after the provider's redirect."""
    flow_id, _, _ = req.execution_id.partition(_EXECUTION_SEPARATOR)
    if flow_id != CONNECT_FLOW:
        raise NotFound("Flow execution not found; only a connect flow resumes")
    inputs = req.input or {}
    code = str(inputs.get("exchangeCode") or "")
    if not code:
        raise MissingArguments("input.exchangeCode is required")
    try:
        claim = json.loads(broker.ring.unseal(code, context=_code_context(req.execution_id)))
    except (SealError, ValueError) as exc:
        raise InvalidArguments("The flow code does not belong to this execution") from exc
    state = str(claim.get("state") or "")
    if claim.get("user") != caller.user_id:
        # The browser sent back is signed in as someone else (COAT): a parked grant is refused
        # and revoked now, as connect_flows does for a landing confirmed by another account.
        confirm_started_flow(broker, state, caller.user_id or "")
        raise InvalidArguments("The flow code belongs to another user")
    if float(claim.get("exp") or 0) < now_s():
        raise InvalidArguments("The connection took longer than 20 minutes; try again")
    confirm_started_flow(broker, state, caller.user_id or "")  # keeps a parked grant
    app_id = str(claim.get("app") or "")
    connected = app_id in apps_with_user_token(broker, caller, caller.user_id, None)
    return {
        "executionId": req.execution_id,
        "stepId": req.step_id or _RESUME_STEP,
        "status": "waiting",
        "action": "redirect",
        "redirect": {"url": str(claim.get("location") or "")},
        "screen": {"id": "", "state": {}},
        "output": {"outboundAppId": app_id, "connected": connected},
    }
