"""Identity tables: project, management and signing keys, users, tenants, sessions, OTP, throttles."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from broker.store.db import Base


class Project(Base):
    """The single local project this broker serves."""

    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="Local project")
    created_at: Mapped[float] = mapped_column(Float)


class ManagementKey(Base):
    """A management key, stored only as a keyed digest (keys are high-entropy)."""

    __tablename__ = "management_keys"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[float] = mapped_column(Float)
    revoked_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class SigningKey(Base):
    """An RS256 key pair; the private half sealed under the master key ring."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_pem_sealed: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[float] = mapped_column(Float)
    # Retired keys sign nothing new but stay published until their last token expires.
    retired_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    publish_until: Mapped[float | None] = mapped_column(Float, nullable=True)


class User(Base):
    """A user of the local project, shaped after Descope's UserResponse."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    given_name: Mapped[str] = mapped_column(String(200), default="")
    middle_name: Mapped[str] = mapped_column(String(200), default="")
    family_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(320), default="", index=True)
    phone: Mapped[str] = mapped_column(String(64), default="")
    verified_email: Mapped[bool] = mapped_column(Boolean, default=False)
    verified_phone: Mapped[bool] = mapped_column(Boolean, default=False)
    picture: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="enabled", index=True)
    test: Mapped[bool] = mapped_column(Boolean, default=False)
    role_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    custom_attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    password_hash: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Set by an admin (expire, or a temporary password): the password no longer signs in.
    password_expired: Mapped[bool] = mapped_column(Boolean, default=False)
    created_time: Mapped[int] = mapped_column(Integer)
    modified_time: Mapped[int] = mapped_column(Integer)
    # None until the first sign-in: JWTResponse.firstSeen is true exactly once.
    last_login_time: Mapped[int | None] = mapped_column(Integer, nullable=True)


class LoginId(Base):
    """A login id (email, phone or name) pointing at its user; unique per project."""

    __tablename__ = "login_ids"

    login_id: Mapped[str] = mapped_column(String(320), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Tenant(Base):
    """A tenant of the local project."""

    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    self_provisioning_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    custom_attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    enforce_sso: Mapped[bool] = mapped_column(Boolean, default=False)
    created_time: Mapped[int] = mapped_column(Integer)


class UserTenant(Base):
    """A user's membership of a tenant, with roles there."""

    __tablename__ = "user_tenants"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role_names: Mapped[list[str]] = mapped_column(JSON, default=list)


class RefreshSession(Base):
    """One sign-in: its refresh JWTs carry this id as ``sid``; logout revokes it."""

    __tablename__ = "refresh_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)
    revoked_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    amr: Mapped[list[str]] = mapped_column(JSON, default=list)


class OtpCode(Base):
    """The one live one-time code of a login id, kept only as a keyed digest."""

    __tablename__ = "otp_codes"

    login_id: Mapped[str] = mapped_column(String(320), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[float] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A sign-up creates its user only once the code is verified; the details wait here.
    pending_user: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)


class OutboxMessage(Base):
    """A message the broker would have sent (email OTP), readable locally; the code is sealed."""

    __tablename__ = "outbox_messages"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    login_id: Mapped[str] = mapped_column(String(320), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(200))
    code_sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float, index=True)


class ThrottleCounter(Base):
    """Failures counted in a fixed window for one bucket (a login id or a client address)."""

    __tablename__ = "throttle_counters"

    bucket: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_start: Mapped[float] = mapped_column(Float)
    failures: Mapped[int] = mapped_column(Integer)
