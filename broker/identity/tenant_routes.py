"""Descope management endpoints for tenants: create, load, list, update, delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from broker.context import DbSession
from broker.errors import MissingArguments
from broker.identity.auth import ManagementAuth
from broker.identity.tenants import (
    all_tenants,
    create_tenant,
    delete_tenant,
    get_tenant,
    tenant_response,
    update_tenant,
)
from broker.identity.wire import TenantBody, TenantRef

router = APIRouter(tags=["management"])


@router.post("/v1/mgmt/tenant/create")
def create(body: TenantBody, s: DbSession, _: ManagementAuth) -> dict[str, str]:
    """Create a tenant (the SDK sends ``id: null`` to have one generated) → ``{id}``."""
    return {"id": create_tenant(s, body).id}


@router.get("/v1/mgmt/tenant/all")
def load_all(s: DbSession, _: ManagementAuth) -> dict[str, Any]:
    """Every tenant → ``{tenants}``."""
    return {"tenants": [tenant_response(t) for t in all_tenants(s)]}


@router.get("/v1/mgmt/tenant")
def load(
    s: DbSession, _: ManagementAuth, tenant_id: str = Query(default="", alias="id")
) -> dict[str, Any]:
    """One tenant, bare (as the SDK's ``tenant.load`` returns it); 404 if none."""
    return tenant_response(get_tenant(s, tenant_id))


@router.post("/v1/mgmt/tenant/update")
def update(body: TenantBody, s: DbSession, _: ManagementAuth) -> dict[str, Any]:
    """Replace a tenant's name, domains, attributes and flags → ``{}``."""
    if not body.id:
        raise MissingArguments("id is required")
    update_tenant(s, body)
    return {}


@router.post("/v1/mgmt/tenant/delete")
def delete(body: TenantRef, s: DbSession, _: ManagementAuth) -> dict[str, Any]:
    """Delete a tenant and its memberships → ``{}``."""
    delete_tenant(s, body.id)
    return {}
