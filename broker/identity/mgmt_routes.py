"""Descope management endpoints for identity: license, users, tenants, management sign-in."""

from __future__ import annotations

from fastapi import APIRouter

from broker.auth import ManagementAuth

router = APIRouter(tags=["management"])


@router.get("/v1/mgmt/license")
def license_tier(_: ManagementAuth) -> dict[str, str]:
    """The SDK start-up handshake: this broker has no rate-limit tiers."""
    return {"rateLimitTier": "tier1"}
