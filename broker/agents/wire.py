"""Request bodies of the access-key and proxy endpoints (camelCase on the wire, nulls accepted)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from broker.identity.wire import MAX_WIRE_INT
from broker.outbound.wire import WireModel


class AccessKeyCreate(WireModel):
    """``POST /v1/mgmt/accesskey/create`` as the official SDKs send it, plus ``appIds``."""

    name: str = Field(min_length=1, max_length=200)
    expire_time: int | None = Field(default=None, ge=0, le=MAX_WIRE_INT)
    role_names: list[str] | None = None
    key_tenants: list[dict[str, Any]] | None = None
    user_id: str | None = None
    custom_claims: dict[str, Any] | None = None
    description: str | None = Field(default=None, max_length=2000)
    permitted_ips: list[str] | None = None
    custom_attributes: dict[str, Any] | None = None
    # Extension: the outbound apps the key may reach (also read from customAttributes.appIds).
    app_ids: list[str] | None = None


class AccessKeyUpdate(WireModel):
    """``POST /v1/mgmt/accesskey/update``: id and name required; other fields only when given."""

    id: str = Field(min_length=1)
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    custom_claims: dict[str, Any] | None = None
    permitted_ips: list[str] | None = None
    custom_attributes: dict[str, Any] | None = None


class AccessKeyId(WireModel):
    """``{id}`` bodies: deactivate, activate, delete, rotate."""

    id: str = Field(min_length=1)


class AccessKeySearch(WireModel):
    """``POST /v1/mgmt/accesskey/search``."""

    tenant_ids: list[str] | None = None
    bound_user_id: str | None = None
    creating_user: str | None = None
    custom_attributes: dict[str, Any] | None = None


class AccessKeyExchange(WireModel):
    """``POST /v1/auth/accesskey/exchange`` body (``loginOptions`` is accepted and unused)."""

    login_options: dict[str, Any] | None = None


class ProxyRequest(WireModel):
    """``POST /v1/x/outbound/proxy``: one call to the provider's API with the user's token."""

    app_id: str = Field(min_length=1, max_length=128)
    method: str = Field(min_length=1, max_length=10)
    path: str = Field(min_length=1, max_length=2048)
    query: dict[str, str | int | float | bool | list[str]] | None = None
    json_body: Any = Field(default=None, alias="json")
    headers: dict[str, str] | None = None
    agent: str | None = Field(default=None, max_length=200)
    tool: str | None = Field(default=None, max_length=64)


class AgentCallReport(WireModel):
    """``POST /v1/x/agents/calls``: an agent tool call the MCP server reports for its user."""

    agent: str = Field(default="", max_length=200)
    tool: str = Field(min_length=1, max_length=64)
    app_id: str = Field(default="", max_length=128)
    outcome: str = Field(min_length=1, max_length=64)
    detail: str = Field(default="", max_length=500)
