"""Descope auth endpoints: sign-up, sign-in, OTP, refresh, logout, me, JWKS."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from broker.auth import broker_of

router = APIRouter(tags=["auth"])


@router.get("/v2/keys/{project_id}")
def jwks(project_id: str, request: Request) -> dict[str, Any]:
    """The project's public signing keys (RS256 JWKs with kid and alg)."""
    broker = broker_of(request)
    if project_id != broker.project_id:
        return {"keys": []}
    return broker.signing.jwks()
