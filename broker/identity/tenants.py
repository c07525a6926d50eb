"""Tenants of the local project: create, load, list, update, delete, in Descope's shape."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.errors import VALIDATION_FAILED, Conflict, NotFound
from broker.identity.wire import TenantBody
from broker.project.credentials import new_id
from broker.store.db import now_s
from broker.store.identity import Tenant, UserTenant
from broker.store.owners import resort


class TenantNotFound(NotFound):
    """No such tenant (404)."""

    description = "Tenant not found"


def tenant_response(tenant: Tenant) -> dict[str, Any]:
    """A tenant as Descope's management API returns it."""
    return {
        "id": tenant.id,
        "name": tenant.name,
        "selfProvisioningDomains": list(tenant.self_provisioning_domains),
        "customAttributes": dict(tenant.custom_attributes),
        "enforceSSO": tenant.enforce_sso,
        "disabled": tenant.disabled,
        "createdTime": tenant.created_time,
    }


def _check_name_free(s: Session, name: str, tenant_id: str | None) -> None:
    other = s.scalar(select(Tenant).where(Tenant.name == name))
    if other is not None and other.id != tenant_id:
        raise Conflict("A tenant with this name already exists", code=VALIDATION_FAILED)


def create_tenant(s: Session, body: TenantBody) -> Tenant:
    """A new tenant; its id is generated unless the body names one (409 if taken)."""
    tenant_id = body.id or new_id("T")
    if s.get(Tenant, tenant_id) is not None:
        raise Conflict("A tenant with this id already exists", code=VALIDATION_FAILED)
    _check_name_free(s, body.name, tenant_id)
    tenant = Tenant(id=tenant_id, name=body.name, created_time=int(now_s()))
    _assign(tenant, body)
    s.add(tenant)
    s.flush()
    return tenant


def update_tenant(s: Session, body: TenantBody) -> Tenant:
    """Replace a tenant's fields (name, domains, attributes, flags)."""
    tenant = get_tenant(s, body.id or "")
    _check_name_free(s, body.name, tenant.id)
    renamed = tenant.name != body.name
    tenant.name = body.name
    _assign(tenant, body)
    if renamed:
        resort(s, "", tenant.id)  # the tokens page orders its tokens by the name
    return tenant


def _assign(tenant: Tenant, body: TenantBody) -> None:
    tenant.self_provisioning_domains = list(body.self_provisioning_domains or [])
    tenant.custom_attributes = dict(body.custom_attributes or {})
    tenant.enforce_sso = bool(body.enforce_sso)
    tenant.disabled = bool(body.disabled)


def get_tenant(s: Session, tenant_id: str) -> Tenant:
    """The tenant with ``tenant_id``; 404 when there is none."""
    tenant = s.get(Tenant, tenant_id) if tenant_id else None
    if tenant is None:
        raise TenantNotFound("Tenant not found")
    return tenant


def all_tenants(s: Session) -> list[Tenant]:
    """Every tenant, by name."""
    return list(s.scalars(select(Tenant).order_by(Tenant.name)))


def delete_tenant(s: Session, tenant_id: str) -> None:
    """Delete a tenant and its memberships (nothing happens if it does not exist)."""
    tenant = s.get(Tenant, tenant_id)
    if tenant is not None:
        s.delete(tenant)
        resort(s, "", tenant_id)  # its tokens stay, named by the tenant's id


def tenants_of(s: Session, user_id: str | None, tenant_ids: set[str]) -> list[dict[str, Any]]:
    """Those of ``tenant_ids`` the user belongs to, by name, as ``/v1/auth/me/tenants`` lists them."""
    rows = s.scalars(
        select(Tenant)
        .join(UserTenant, UserTenant.tenant_id == Tenant.id)
        .where(UserTenant.user_id == user_id, Tenant.id.in_(tenant_ids))
        .order_by(Tenant.name)
    )
    return [
        {"id": t.id, "name": t.name, "customAttributes": dict(t.custom_attributes)} for t in rows
    ]
