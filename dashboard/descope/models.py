"""Identity objects parsed at the edge: Descope's UserResponse, JWTResponse and OTP answers.

Parsing is lenient where the wire varies (reference §4.2): optional fields may be missing or
``null``, numbers may arrive as strings, and ``refreshJwt`` may be absent on refresh.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dashboard.descope.parsing import number, text, texts


@dataclass(frozen=True)
class UserTenant:
    """A user's membership of one tenant, with the roles held there."""

    tenant_id: str
    tenant_name: str
    role_names: tuple[str, ...]

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> UserTenant:
        """Parse one ``userTenants`` entry."""
        return cls(
            tenant_id=text(data.get("tenantId")),
            tenant_name=text(data.get("tenantName")),
            role_names=texts(data.get("roleNames")),
        )


@dataclass(frozen=True)
class User:
    """Descope's UserResponse, the fields the dashboard uses."""

    user_id: str
    login_ids: tuple[str, ...]
    name: str
    email: str
    status: str
    role_names: tuple[str, ...]
    tenants: tuple[UserTenant, ...]

    @property
    def display_name(self) -> str:
        """The name to show: name, else email, else the first login id, else the id."""
        return self.name or self.email or next(iter(self.login_ids), "") or self.user_id

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> User:
        """Parse a UserResponse (bare from ``/v1/auth/me``, or the ``user`` of a JWTResponse)."""
        return cls(
            user_id=text(data.get("userId")),
            login_ids=texts(data.get("loginIds")),
            name=text(data.get("name")),
            email=text(data.get("email")),
            status=text(data.get("status")) or "enabled",
            role_names=texts(data.get("roleNames")),
            tenants=tuple(
                UserTenant.from_api(t)
                for t in data.get("userTenants") or []
                if isinstance(t, Mapping)
            ),
        )


@dataclass(frozen=True)
class AuthResult:
    """A JWTResponse: what sign-in, OTP verify and refresh answer."""

    session_jwt: str
    refresh_jwt: str | None
    user: User | None
    first_seen: bool
    session_expiration: float | None

    def __repr__(self) -> str:
        who = self.user.user_id if self.user else "?"
        return f"AuthResult(user={who!r}, session_jwt='***', refresh_jwt='***')"

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> AuthResult:
        """Parse a JWTResponse; ``refreshJwt`` and ``user`` may be missing (refresh)."""
        user = data.get("user")
        return cls(
            session_jwt=text(data.get("sessionJwt")),
            refresh_jwt=text(data.get("refreshJwt")) or None,
            user=User.from_api(user) if isinstance(user, Mapping) and user else None,
            first_seen=bool(data.get("firstSeen")),
            session_expiration=number(data.get("sessionExpiration")),
        )


@dataclass(frozen=True)
class OtpStarted:
    """The answer to starting an email OTP: where the code went (masked)."""

    masked_email: str

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> OtpStarted:
        """Parse ``{maskedEmail}``."""
        return cls(masked_email=text(data.get("maskedEmail")))


@dataclass(frozen=True)
class OutboxMessage:
    """A message the embedded broker would have sent (its local outbox extension)."""

    login_id: str
    address: str
    subject: str
    code: str
    created_at: float | None

    def __repr__(self) -> str:
        return f"OutboxMessage(login_id={self.login_id!r}, subject={self.subject!r}, code='***')"

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> OutboxMessage:
        """Parse one outbox entry."""
        return cls(
            login_id=text(data.get("loginId")),
            address=text(data.get("to")) or text(data.get("address")),
            subject=text(data.get("subject")),
            code=text(data.get("code")),
            created_at=number(data.get("createdAt") or data.get("createdTime")),
        )


def parse_outbox(data: Any) -> tuple[OutboxMessage, ...]:
    """Outbox entries (newest first) from ``{messages: [...]}`` or a bare list."""
    items = data.get("messages") if isinstance(data, Mapping) else data
    if not isinstance(items, list):
        return ()
    return tuple(OutboxMessage.from_api(m) for m in items if isinstance(m, Mapping))
