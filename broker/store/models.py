"""Every table, imported in one place so Alembic and ``Base.metadata`` see the whole schema."""

from __future__ import annotations

from broker.store import agents, identity, lifecycle, outbound

__all__ = ["agents", "identity", "lifecycle", "outbound"]
