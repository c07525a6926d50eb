"""Agent tables: Descope-style access keys, bound to a user, kept only as keyed digests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from broker.store.db import Base


class AccessKeyRow(Base):
    """An access key: its cleartext is shown once at creation; only its digest is stored."""

    __tablename__ = "access_keys"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_digest: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | inactive
    expire_time: Mapped[int] = mapped_column(default=0)  # Unix seconds; 0 = never
    # Extension: the outbound app ids the key may reach ([] = every app of the user).
    app_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    role_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    custom_claims: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    custom_attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    permitted_ips: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_time: Mapped[int] = mapped_column(default=0)
    last_used_time: Mapped[float | None] = mapped_column(Float, nullable=True)
