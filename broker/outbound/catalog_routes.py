"""Extension endpoint (not part of Descope's API): the provider catalog, read-only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from broker.identity.auth import ManagementOrUser
from broker.providers.catalog import load_catalog

router = APIRouter(tags=["extensions"])


@router.get("/v1/x/outbound/catalog")
def catalog(_: ManagementOrUser) -> dict[str, Any]:
    """Every provider template (an extension): endpoints, scopes with descriptions, quirks."""
    return {"templates": [t.public() for t in load_catalog().values()]}
