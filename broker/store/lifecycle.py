"""Lifecycle tables: named leases (per-token refresh, the scheduler), the event log, webhooks.

A lease row outlives its holders: releasing it clears the owner and records how the work it
guarded ended (``settled_*``), so the callers who waited for it can share that outcome.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from broker.store.db import Base


class LeaseRow(Base):
    """A lease by name (``refresh:<token id>``, ``scheduler``): owner and expiry, or free."""

    __tablename__ = "lifecycle_leases"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    expires_at: Mapped[float] = mapped_column(Float, default=0.0)
    acquired_at: Mapped[float] = mapped_column(Float, default=0.0)
    # Bumped on every acquisition: a waiter knows whether the holder it saw has settled.
    generation: Mapped[int] = mapped_column(Integer, default=0)
    settled_generation: Mapped[int] = mapped_column(Integer, default=0)
    settled_at: Mapped[float] = mapped_column(Float, default=0.0)
    settled_outcome: Mapped[str] = mapped_column(String(32), default="")
    settled_error: Mapped[str] = mapped_column(Text, default="")


class LifecycleEventRow(Base):
    """One audit event of a token's life (connected, refreshed, needs_reauth…)."""

    __tablename__ = "lifecycle_events"
    __table_args__ = (
        Index("ix_lifecycle_events_user", "user_id", "seq"),
        Index("ix_lifecycle_events_token", "token_id", "seq"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(64), unique=True)  # idempotency id for webhooks
    kind: Mapped[str] = mapped_column(String(32), index=True)
    time: Mapped[float] = mapped_column(Float, index=True)
    token_id: Mapped[str] = mapped_column(String(64), default="")
    app_id: Mapped[str] = mapped_column(String(128), default="", index=True)
    user_id: Mapped[str] = mapped_column(String(64), default="")
    tenant_id: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class WebhookDeliveryRow(Base):
    """One event owed to one webhook URL: attempts, next attempt, outcome."""

    __tablename__ = "lifecycle_webhook_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_seq: Mapped[int] = mapped_column(
        ForeignKey("lifecycle_events.seq", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[float] = mapped_column(Float, default=0.0, index=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    delivered_at: Mapped[float | None] = mapped_column(Float, nullable=True)
