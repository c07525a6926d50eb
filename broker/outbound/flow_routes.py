"""Descope's Flows endpoints for the two outbound flows (see broker/outbound/flows.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from broker.context import broker_of
from broker.identity.auth import RefreshUser
from broker.outbound.flows import next_flow, start_flow
from broker.outbound.wire import FlowNextRequest, FlowStartRequest

router = APIRouter(tags=["flows"])


@router.post("/v1/flow/start")
def flow_start(body: FlowStartRequest, request: Request, caller: RefreshUser) -> dict[str, Any]:
    """Start ``outbound-apps-connect`` or ``outbound-apps-disconnect`` for the session's user."""
    return start_flow(broker_of(request), caller, body)


@router.post("/v1/flow/next")
def flow_next(body: FlowNextRequest, request: Request, caller: RefreshUser) -> dict[str, Any]:
    """Resume a connect flow after the provider's redirect (descope-wc's ``exchangeCode``)."""
    return next_flow(broker_of(request), caller, body)
