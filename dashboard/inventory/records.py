"""What a token inventory holds: connections (token metadata, never secrets), failures, progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from dashboard.descope import (
    ManagedToken,
)

Source = Literal["bulk", "fan-out"]
Step = Literal["users", "apps", "token", "tenants", "inventory"]


@dataclass(frozen=True)
class InventoryQuery:
    """Which connections to collect; also the cache key beside the target (never a token)."""

    app_id: str = ""
    user_text: str = ""
    user_ids: tuple[str, ...] = ()
    include_tenants: bool = True


@dataclass(frozen=True)
class Connection:
    """One stored token (its metadata only) and who owns it."""

    token: ManagedToken
    user_name: str = ""
    user_email: str = ""
    user_login_id: str = ""
    tenant_name: str = ""
    # Whether ``apps-with-user-token`` listed the app for the user (a fan-out scan; None where
    # not asked): False for a token stored but not usable (needs a reconnect, expired for good).
    held: bool | None = None

    @property
    def owner_label(self) -> str:
        """The owner to show: the user's name, email or login id, else the tenant."""
        if self.token.is_tenant_token:
            return f"Tenant {self.tenant_name or self.token.tenant_id}"
        return self.user_name or self.user_email or self.user_login_id or self.token.user_id


@dataclass(frozen=True)
class Failure:
    """One call of the inventory that failed, whose it was, and why in one sentence."""

    step: Step
    sentence: str
    user_id: str = ""
    user_label: str = ""
    app_id: str = ""
    tenant_id: str = ""


@dataclass(frozen=True)
class Progress:
    """How far an inventory has come; ``total`` grows as users and their apps are found."""

    done: int
    total: int
    elapsed_s: float

    @property
    def fraction(self) -> float:
        """Done over total, between 0 and 1."""
        return min(1.0, self.done / self.total) if self.total else 0.0

    @property
    def remaining_s(self) -> float | None:
        """Time left at the rate so far; None before the first call has finished."""
        if not self.done:
            return None
        return self.elapsed_s / self.done * max(0, self.total - self.done)


@dataclass(frozen=True)
class Inventory:
    """Connections found, failures beside them, and how the inventory was taken."""

    connections: tuple[Connection, ...]
    failures: tuple[Failure, ...]
    source: Source
    collected_at: datetime
    users_scanned: int = 0
    calls: int = 0
    backoffs: int = 0
    cancelled: bool = False
    elapsed_s: float = 0.0

    @property
    def complete(self) -> bool:
        """Whether every call succeeded and nothing was cancelled."""
        return not self.failures and not self.cancelled

    @property
    def unreadable(self) -> bool:
        """Whether nothing could be read: every call failed (the service is down or broken)."""
        return not self.connections and bool(self.failures) and len(self.failures) >= self.calls
