"""Outbound tables: apps, pending authorizations (connect → callback) and the token vault.

Secrets never sit here in clear: client secrets, PKCE verifiers, access and refresh tokens are
sealed with the key ring (context bound to the row id); a pending ``state`` is kept as a digest.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from broker.store.db import Base


class OutboundAppRow(Base):
    """An outbound app, with every field of Descope's OutboundApp object."""

    __tablename__ = "outbound_apps"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    logo: Mapped[str] = mapped_column(Text, default="")
    client_id: Mapped[str] = mapped_column(Text, default="")
    client_secret_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    template_id: Mapped[str] = mapped_column(String(64), default="")
    discovery_url: Mapped[str] = mapped_column(Text, default="")
    authorization_url: Mapped[str] = mapped_column(Text, default="")
    authorization_url_params: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    token_url: Mapped[str] = mapped_column(Text, default="")
    token_url_params: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    revocation_url: Mapped[str] = mapped_column(Text, default="")
    default_scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    default_redirect_url: Mapped[str] = mapped_column(Text, default="")
    callback_domain: Mapped[str] = mapped_column(Text, default="")
    pkce: Mapped[bool] = mapped_column(Boolean, default=True)
    access_type: Mapped[str] = mapped_column(String(16), default="")
    prompt: Mapped[list[str]] = mapped_column(JSON, default=list)
    app_type: Mapped[str] = mapped_column(String(16), default="oauth")
    use_dcr: Mapped[bool] = mapped_column(Boolean, default=False)
    dcr_url: Mapped[str] = mapped_column(Text, default="")
    tenant_id: Mapped[str] = mapped_column(String(64), default="")
    # Provider metadata fetched from ``discovery_url`` (RFC 8414 / OIDC), kept for auth methods.
    provider_metadata: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class PendingAuthorizationRow(Base):
    """A connect in flight: single-use state (digest), sealed PKCE verifier, 10-minute life."""

    __tablename__ = "outbound_pending"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    state_digest: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    app_id: Mapped[str] = mapped_column(
        ForeignKey("outbound_apps.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(String(64), default="")
    tenant_id: Mapped[str] = mapped_column(String(64), default="")
    tenant_level: Mapped[bool] = mapped_column(Boolean, default=False)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    redirect_url: Mapped[str] = mapped_column(Text, default="")
    external_identifier: Mapped[str] = mapped_column(String(256), default="")
    verifier_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
    # The flow after the callback (broker/outbound/connect_flows.py): its status, the one-time
    # landing id (digest), the grant parked until the initiator confirms it (sealed), and what
    # the callback must check (the token endpoint and issuer seen at connect, RFC 9207).
    status: Mapped[str] = mapped_column(String(24), default="pending")
    landing_digest: Mapped[str | None] = mapped_column(
        String(64), nullable=True, unique=True, index=True
    )
    confirm: Mapped[bool] = mapped_column(Boolean, default=False)
    grant_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    granted_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    outcome: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    token_url: Mapped[str] = mapped_column(Text, default="")
    issuer: Mapped[str] = mapped_column(Text, default="")
    iss_required: Mapped[bool] = mapped_column(Boolean, default=False)
    reconnect_link_id: Mapped[str] = mapped_column(String(64), default="")
    reported_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class ReconnectLinkRow(Base):
    """An admin's reconnect link for one dead token: single use, expiring, bound to its user."""

    __tablename__ = "outbound_reconnect_links"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    link_digest: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    token_id: Mapped[str] = mapped_column(String(64), index=True)
    app_id: Mapped[str] = mapped_column(
        ForeignKey("outbound_apps.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(String(64))
    tenant_id: Mapped[str] = mapped_column(String(64), default="")
    external_identifier: Mapped[str] = mapped_column(String(256), default="")
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)
    used_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class StoredToken(Protocol):
    """A stored token as read: a ``ManagedTokenRow``, or a Core row of its table (the fetch's
    hot path reads one without building an ORM object; docs/performance.md)."""

    @property
    def id(self) -> str: ...
    @property
    def app_id(self) -> str: ...
    @property
    def user_id(self) -> str: ...
    @property
    def tenant_id(self) -> str: ...
    @property
    def external_identifier(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def token_sub(self) -> str: ...
    @property
    def access_token_sealed(self) -> str | None: ...
    @property
    def access_token_type(self) -> str: ...
    @property
    def access_token_expiry(self) -> int: ...
    @property
    def expiry_assumed(self) -> bool: ...
    @property
    def refresh_token_sealed(self) -> str | None: ...
    @property
    def scopes(self) -> list[str]: ...
    @property
    def requested_scopes(self) -> list[str]: ...
    @property
    def provider_metadata(self) -> dict[str, str] | None: ...
    @property
    def granted_by(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def last_refresh_time(self) -> int | None: ...
    @property
    def last_refresh_error(self) -> str: ...
    @property
    def failure_count(self) -> int: ...
    @property
    def next_refresh_time(self) -> int | None: ...
    @property
    def created_at(self) -> float: ...
    @property
    def updated_at(self) -> float: ...


# Code-point order on PostgreSQL too (as SQLite and Python compare), not the database's locale.
OWNER_SORT_TYPE = String(256).with_variant(String(256, collation="C"), "postgresql")


class ManagedTokenRow(Base):
    """A stored provider grant for a user or a tenant; one per (app, user, tenant, external id)."""

    __tablename__ = "outbound_tokens"
    __table_args__ = (
        UniqueConstraint(
            "app_id", "user_id", "tenant_id", "external_identifier", name="uq_outbound_token_owner"
        ),
        Index("ix_outbound_tokens_user", "user_id", "tenant_id"),
        Index("ix_outbound_tokens_owner_sort", "owner_sort", "app_id", "id"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    app_id: Mapped[str] = mapped_column(
        ForeignKey("outbound_apps.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(String(64), default="")
    tenant_id: Mapped[str] = mapped_column(String(64), default="")
    external_identifier: Mapped[str] = mapped_column(String(256), default="")
    kind: Mapped[str] = mapped_column(String(16), default="oauth")  # "oauth" | "apikey"
    token_sub: Mapped[str] = mapped_column(String(256), default="")
    access_token_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    access_token_type: Mapped[str] = mapped_column(String(32), default="Bearer")
    access_token_expiry: Mapped[int] = mapped_column(Integer, default=0)  # 0 = does not expire
    expiry_assumed: Mapped[bool] = mapped_column(Boolean, default=False)
    refresh_token_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    requested_scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    granted_by: Mapped[str] = mapped_column(String(256), default="")
    status: Mapped[str] = mapped_column(String(16), default="active")
    # Bumped on every write of the token pair (compare-and-swap for the refresh engine).
    version: Mapped[int] = mapped_column(Integer, default=1)
    last_refresh_time: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_refresh_error: Mapped[str] = mapped_column(Text, default="")
    failure_count: Mapped[int] = mapped_column(Integer, default=0)
    next_refresh_time: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    # Non-secret connection metadata the provider named (instance_url, team id, realmId, tid).
    provider_metadata: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
    # The owner as the tokens page names it, lower-cased (``broker.store.owners``): the order of
    # its pages, kept on the row and indexed so a page is read in order, not sorted whole.
    owner_sort: Mapped[str] = mapped_column(OWNER_SORT_TYPE, default="", server_default="")
