"""Extensions of the connect flow (``/v1/x/``): the user verifier, flow status, reconnect links.

None of them exists on Descope's cloud; in strict mode (``--strict-descope``) they answer 404,
like any path Descope does not have (broker/outbound/connect_settings.py).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from broker.context import broker_of
from broker.errors import NotFound
from broker.identity.auth import (
    ManagementAuth,
    RefreshUser,
    parse_bearer,
    require_refresh_user,
)
from broker.outbound.connect_flows import confirm_flow, flow_status
from broker.outbound.connect_settings import connect_settings
from broker.outbound.reconnect import create_link, start_reconnect
from broker.outbound.wire import (
    FlowConfirmRequest,
    FlowStatusRequest,
    ReconnectLinkRequest,
    ReconnectRequest,
)


def _extensions_on(request: Request) -> None:
    if not connect_settings(broker_of(request)).extensions:
        raise NotFound("Not found")


router = APIRouter(tags=["extensions"], dependencies=[Depends(_extensions_on)])


def signed_in_user(request: Request) -> str:
    """The user of ``Bearer pid:refreshJwt``, or "" for ``Bearer pid`` (nobody signed in)."""
    bearer = parse_bearer(request)
    if not bearer.jwt:
        return ""
    return require_refresh_user(request).user_id or ""


SignedInUser = Annotated[str, Depends(signed_in_user)]


@router.post("/v1/x/outbound/oauth/confirm")
def confirm(body: FlowConfirmRequest, request: Request, user_id: SignedInUser) -> dict[str, Any]:
    """The landing browser's signed-in user (or nobody) asks for the flow's outcome, once."""
    return confirm_flow(broker_of(request), body.flow, user_id)


@router.post("/v1/x/outbound/oauth/status")
def status(body: FlowStatusRequest, request: Request, caller: RefreshUser) -> dict[str, Any]:
    """The initiator's tab asks how its connect is doing."""
    return flow_status(broker_of(request), caller.user_id or "", body.state)


@router.post("/v1/x/mgmt/outbound/reconnect/link")
def reconnect_link(
    body: ReconnectLinkRequest, request: Request, _: ManagementAuth
) -> dict[str, Any]:
    """A reconnect link for a user's dead token (single use, expiring, bound to the user)."""
    return create_link(broker_of(request), body.token_id)


@router.post("/v1/x/outbound/oauth/reconnect")
def reconnect(body: ReconnectRequest, request: Request, caller: RefreshUser) -> dict[str, str]:
    """The link's user starts the reconnect; answers ``{url}`` like connect."""
    return {"url": start_reconnect(broker_of(request), caller, body.link, body.redirect_url)}
